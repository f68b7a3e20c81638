// SPDX-License-Identifier: Apache-2.0

package example;

import dev.sdtls.Certificate;
import dev.sdtls.Config;
import dev.sdtls.Connection;
import dev.sdtls.Event;
import dev.sdtls.Fingerprint;
import dev.sdtls.Time;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A DTLS echo through the release jar alone: the C tool's server (`sdtls server --echo`,
 * the tool named by the first argument) on loopback, this client over a UDP socket.
 * Prints one line (version, cipher, group); throws (the JVM exits 1) unless the echo
 * came back over DTLS 1.3 with X25519MLKEM768, the defaults of the engine the release
 * carries.
 */
public final class Echo {
  private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);

  public static void main(String[] args) throws Exception {
    Certificate cert = Certificate.generate("localhost", 1);
    Path dir = Files.createTempDirectory("sdtls-jar-consumer");
    Path certFile = Files.writeString(dir.resolve("cert.pem"), cert.certificatePem());
    Path keyFile = Files.writeString(dir.resolve("key.pem"), cert.privateKeyPem());
    Process server = new ProcessBuilder(args[0], "server", "--listen", "127.0.0.1:0",
        "--cert", certFile.toString(), "--key", keyFile.toString(), "--echo")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      BufferedReader stderr = new BufferedReader(
          new InputStreamReader(server.getErrorStream(), StandardCharsets.UTF_8));
      String line = stderr.readLine();
      Matcher m = Pattern.compile("listening 127\\.0\\.0\\.1:(\\d+)").matcher(line == null ? "" : line);
      if (!m.find()) {
        throw new IllegalStateException("the tool's server did not start: " + line);
      }
      // The rest of the server's messages, so that it never blocks on a full pipe. The
      // finally block's destroy() closes the pipe under this thread: that ends it.
      Thread drain = new Thread(() -> {
        try {
          stderr.lines().forEach(l -> { });
        } catch (UncheckedIOException closed) {
          // the server was destroyed
        }
      });
      drain.setDaemon(true);
      drain.start();
      System.out.println(echo(Integer.parseInt(m.group(1)), cert));
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
      Files.delete(certFile);
      Files.delete(keyFile);
      Files.delete(dir);
    }
  }

  private static String echo(int port, Certificate cert) throws Exception {
    byte[] message = "release artefact".getBytes(StandardCharsets.UTF_8);
    Fingerprint pin = cert.fingerprint(Fingerprint.Hash.SHA_256);
    try (Config config = new Config().peerFingerprint(pin);
        Connection client = Connection.client(config, "localhost");
        DatagramChannel socket = DatagramChannel.open()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port));
      socket.configureBlocking(false);
      ByteBuffer buf = ByteBuffer.allocate(65536);
      long start = Time.now();
      client.start(start);
      String summary = null;
      while (Time.now() - start < TIMEOUT_NS) {
        long now = Time.now();
        while (socket.read(buf.clear()) > 0) {
          client.receive(Arrays.copyOf(buf.array(), buf.position()), now);
        }
        for (Event e; (e = client.pollEvent()) != null; ) {
          if (e instanceof Event.HandshakeDone done) {
            summary = done.version() + " " + done.cipher() + " " + client.group();
            client.send(message, now);
          } else if (e instanceof Event.Data data) {
            if (!Arrays.equals(data.data(), message)) {
              throw new IllegalStateException("echo: " + new String(data.data(), StandardCharsets.UTF_8));
            }
            if (!summary.startsWith("DTLSv1.3 ") || !summary.endsWith(" X25519MLKEM768")) {
              throw new IllegalStateException("not DTLS 1.3 with X25519MLKEM768 by default: " + summary);
            }
            return summary;
          } else if (e instanceof Event.Closed closed) {
            throw new IllegalStateException("closed: " + closed);
          }
        }
        for (byte[] d; (d = client.pollDatagram()) != null; ) {
          socket.write(ByteBuffer.wrap(d));
        }
        if (client.nextDeadline().orElse(Long.MAX_VALUE) <= now) {
          client.handleTimeout(now);
        }
        Thread.sleep(1);
      }
      throw new IllegalStateException(
          "no echo within 20 s" + (summary == null ? " (no handshake)" : " after " + summary));
    }
  }
}
