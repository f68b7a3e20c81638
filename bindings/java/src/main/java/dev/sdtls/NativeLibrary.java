// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/**
 * Loads the JNI library once: from the path in the system property
 * {@code sdtls.library} when it is set (the tests point it at the build),
 * else {@code libsdtls_java.so} from {@code java.library.path}.
 */
final class NativeLibrary {
  private NativeLibrary() {}

  static {
    String path = System.getProperty("sdtls.library");
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else {
      System.loadLibrary("sdtls_java");
    }
  }

  /** Makes sure the library is loaded (the class initialiser runs once). */
  static void load() {}
}
