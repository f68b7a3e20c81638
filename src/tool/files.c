/* Small files the tool reads and writes whole: the client's --session file
 * and the server's --ticket-secret-file. Both hold secrets: they are wiped
 * after use and written with mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

void wipe_free(uint8_t *buf, size_t len) {
  if (buf != NULL) {
    explicit_bzero(buf, len);
    free(buf);
  }
}

int read_small_file(const char *path, const char *what, size_t max, bool missing_ok,
                    uint8_t **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && missing_ok) {
      return 0;
    }
    errorf("%s: cannot read the %s: %s", path, what, strerror(errno));
    return -1;
  }
  uint8_t *buf = malloc(max + 1);
  if (buf == NULL) {
    close(fd);
    errorf("%s: cannot read the %s: %s", path, what, strerror(ENOMEM));
    return -1;
  }
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, max + 1 - n);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      int err = errno;
      close(fd);
      wipe_free(buf, max + 1);
      errorf("%s: cannot read the %s: %s", path, what, strerror(err));
      return -1;
    }
    if (r == 0) {
      break;
    }
    n += (size_t)r;
    if (n > max) {
      close(fd);
      wipe_free(buf, max + 1);
      errorf("%s: the %s is larger than %zu bytes", path, what, max);
      return -1;
    }
  }
  close(fd);
  *out = buf;
  *len = n;
  return 1;
}

bool write_secret_file(const char *path, const char *what, const uint8_t *data, size_t len) {
  /* A temporary file beside it, so the rename is atomic and a reader never
   * sees half a file. */
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (tmp == NULL) {
    errorf("cannot write the %s %s: %s", what, path, strerror(ENOMEM));
    return false;
  }
  snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    errorf("cannot write the %s %s: %s", what, path, strerror(errno));
    free(tmp);
    return false;
  }
  bool ok = fchmod(fd, 0600) == 0;
  for (size_t off = 0; ok && off < len;) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    off += n > 0 ? (size_t)n : 0;
  }
  int err = ok ? 0 : errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    unlink(tmp);
    errorf("cannot write the %s %s: %s", what, path, strerror(err != 0 ? err : EIO));
  }
  free(tmp);
  return ok;
}
