package dev.sdtls;

/** Which side of the handshake a connection plays. */
public enum Role {
  CLIENT,
  SERVER
}
