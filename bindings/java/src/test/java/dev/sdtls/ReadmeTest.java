package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ```java block of the repository's README.md compiles and runs. */
class ReadmeTest {
  @Test
  void theReadmeExampleRuns(@TempDir Path dir) throws Exception {
    String readme = Files.readString(Path.of("..", "..", "README.md"));
    Matcher m = Pattern.compile("(?s)\n```java\n(.*?)\n```").matcher(readme);
    assertTrue(m.find(), "README.md has a ```java block");
    Path source = dir.resolve("Example.java");
    Files.writeString(source, m.group(1));

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "a JDK, not a JRE");
    int rc = javac.run(null, null, null, "-d", dir.toString(),
        "-classpath", System.getProperty("java.class.path"), source.toString());
    assertEquals(0, rc, "the README example compiles");

    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
        getClass().getClassLoader())) {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      loader.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(stdout);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("server: DTLSv1.2 TLS_"), printed);
    assertTrue(printed.contains("server got ping"), printed);
  }
}
