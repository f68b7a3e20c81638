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

/** Every ```java block of the binding's README.md compiles and runs. */
class ReadmeTest {
  @Test
  void theReadmeExamplesRun(@TempDir Path dir) throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Matcher m = Pattern.compile("(?s)\n```java\n(.*?)\n```").matcher(readme);
    StringBuilder printed = new StringBuilder();
    int blocks = 0;
    while (m.find()) {
      blocks++;
      printed.append(run(dir.resolve("block" + blocks), m.group(1)));
    }
    assertEquals(2, blocks, "README.md has the connection and the server example");
    String out = printed.toString();
    assertTrue(out.contains("server: " + ConnectionTest.newestVersion() + " TLS_"), out);
    assertTrue(out.contains("server got ping"), out);
    assertTrue(out.contains("speaks echo"), out);
    assertTrue(out.contains("echo: hello"), out);
  }

  /** Compiles one block (a public class with a main) and returns what its main printed. */
  private String run(Path dir, String code) throws Exception {
    Matcher name = Pattern.compile("public class (\\w+)").matcher(code);
    assertTrue(name.find(), "the block has a public class");
    Files.createDirectories(dir);
    Path source = dir.resolve(name.group(1) + ".java");
    Files.writeString(source, code);

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "a JDK, not a JRE");
    int rc = javac.run(null, null, null, "-d", dir.toString(),
        "-classpath", System.getProperty("java.class.path"), source.toString());
    assertEquals(0, rc, "the README example " + name.group(1) + " compiles");

    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
        getClass().getClassLoader())) {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      loader.loadClass(name.group(1)).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(stdout);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
