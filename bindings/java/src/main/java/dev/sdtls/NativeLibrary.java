// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Loads the JNI library once, from the first of:
 *
 * <ol>
 *   <li>the path in the system property {@code sdtls.library} (the tests point it at the
 *       build; a user at the library of their choice);
 *   <li>the library this jar carries for the running platform, {@code
 *       native/linux-ARCH/libsdtls_java.so} (the release jar: linux-x86_64 and
 *       linux-aarch64), copied to a directory of its own under {@code java.io.tmpdir}
 *       that only this user may enter, loaded, and deleted at once;
 *   <li>{@code libsdtls_java.so} from {@code java.library.path} (a jar built without
 *       native libraries: a distribution's, whose package installs the library).
 * </ol>
 *
 * A jar's own library comes before {@code java.library.path} so that the Java classes
 * always run over the JNI functions of their own build, never over another version's
 * that happens to be installed.
 */
final class NativeLibrary {
  private NativeLibrary() {}

  static final String NAME = "sdtls_java";

  static {
    String path = System.getProperty("sdtls.library");
    String resource = resourceFor(System.getProperty("os.name"), System.getProperty("os.arch"));
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else if (resource != null && NativeLibrary.class.getResource(resource) != null) {
      loadFromJar(resource);
    } else {
      try {
        System.loadLibrary(NAME);
      } catch (UnsatisfiedLinkError e) {
        UnsatisfiedLinkError explained = new UnsatisfiedLinkError(
            "sdtls: this jar carries no JNI library for " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + " and lib" + NAME + ".so is not on "
                + "java.library.path; set the system property sdtls.library to its path ("
                + e.getMessage() + ")");
        explained.initCause(e);
        throw explained;
      }
    }
  }

  /** Makes sure the library is loaded (the class initialiser runs once). */
  static void load() {}

  /**
   * The resource name of the jar's library for a platform (by Java's os.name and
   * os.arch), or null for one the release does not build for.
   */
  static String resourceFor(String osName, String osArch) {
    if (osName == null || osArch == null || !osName.toLowerCase(Locale.ROOT).startsWith("linux")) {
      return null;
    }
    String arch;
    switch (osArch.toLowerCase(Locale.ROOT)) {
      case "amd64", "x86_64" -> arch = "x86_64";
      case "aarch64", "arm64" -> arch = "aarch64";
      default -> {
        return null;
      }
    }
    return "/native/linux-" + arch + "/lib" + NAME + ".so";
  }

  /**
   * Copies the resource to a new directory (mode 0700: no other user can swap the file
   * between the copy and the load) and loads it. The file and its directory are deleted
   * right after: on Linux the mapping outlives the name, so nothing is left behind, even
   * if the JVM is killed.
   */
  private static void loadFromJar(String resource) {
    Path dir = null;
    Path file = null;
    try {
      dir = Files.createTempDirectory("sdtls-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      file = dir.resolve("lib" + NAME + ".so");
      try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
        Files.copy(in, file);
      }
      System.load(file.toString());
    } catch (IOException e) {
      UnsatisfiedLinkError failed = new UnsatisfiedLinkError(
          "sdtls: could not copy the jar's " + resource + " to " + (dir != null ? dir : "java.io.tmpdir")
              + " to load it (" + e + "); java.io.tmpdir names another directory, "
              + "sdtls.library a library to load instead");
      failed.initCause(e);
      throw failed;
    } finally {
      try {
        if (file != null) {
          Files.deleteIfExists(file);
        }
        if (dir != null) {
          Files.deleteIfExists(dir);
        }
      } catch (IOException e) {
        // A name left in the temporary directory harms nothing; the library is loaded.
      }
    }
  }
}
