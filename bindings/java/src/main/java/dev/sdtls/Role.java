// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/** Which side of the handshake a connection plays. */
public enum Role {
  CLIENT,
  SERVER
}
