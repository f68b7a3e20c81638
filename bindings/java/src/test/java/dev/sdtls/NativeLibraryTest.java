// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * Which library of the release jar a JVM loads: Java's names of the two architectures
 * the release builds map to the jar's directories (packaging/release.sh writes
 * native/linux-ARCH/); any other platform gets none and falls back to java.library.path.
 */
class NativeLibraryTest {
  @Test
  void linuxArchitecturesMapToTheJarsDirectories() {
    assertEquals("/native/linux-x86_64/libsdtls_java.so", NativeLibrary.resourceFor("Linux", "amd64"));
    assertEquals("/native/linux-x86_64/libsdtls_java.so", NativeLibrary.resourceFor("Linux", "x86_64"));
    assertEquals("/native/linux-aarch64/libsdtls_java.so", NativeLibrary.resourceFor("Linux", "aarch64"));
    assertEquals("/native/linux-aarch64/libsdtls_java.so", NativeLibrary.resourceFor("Linux", "arm64"));
  }

  @Test
  void otherPlatformsHaveNone() {
    assertNull(NativeLibrary.resourceFor("Linux", "riscv64"));
    assertNull(NativeLibrary.resourceFor("Linux", "x86"));
    assertNull(NativeLibrary.resourceFor("Mac OS X", "aarch64"));
    assertNull(NativeLibrary.resourceFor("Windows 11", "amd64"));
    assertNull(NativeLibrary.resourceFor(null, "amd64"));
  }
}
