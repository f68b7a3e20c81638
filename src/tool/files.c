/* SPDX-License-Identifier: Apache-2.0 */
/* The files the tool reads secrets or state from (--cert, --key, --ca,
 * --session, --ticket-secret-file) and writes secrets to (--keylog,
 * --session, cert --key).
 *
 * No open() here can wait: a FIFO opened for reading without a writer, or
 * for writing without a reader, would block the tool forever, so every open
 * is non-blocking (O_NONBLOCK is cleared afterwards where waiting for data is
 * wanted). The tool never changes the mode of a file it is given: a file it
 * creates for a secret is created 0600 (umask can only take bits away), a
 * device or FIFO is written as it is, and an existing regular file that group
 * or others can read is refused rather than filled with secrets. */
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

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "not a regular file";
}

/* Clears O_NONBLOCK, so that reads and writes wait for a pipe's other end
 * as they would for a slow disk. */
static bool make_blocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0;
}

/* After a failed call that set errno: closes `fd` and says "<path>: cannot
 * <verb> the <what>: <errno's text>". Returns -1. */
static int fail_closing(int fd, const char *path, const char *verb, const char *what) {
  int err = errno;
  close(fd);
  errorf("%s: cannot %s the %s: %s", path, verb, what, strerror(err));
  return -1;
}

int read_small_file(const char *path, const char *what, size_t max, unsigned flags,
                    uint8_t **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && (flags & READ_MISSING_OK)) {
      return 0;
    }
    errorf("%s: cannot read the %s: %s", path, what, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return fail_closing(fd, path, "read", what);
  }
  bool is_pipe = S_ISFIFO(st.st_mode);
  if (!S_ISREG(st.st_mode) && !(is_pipe && (flags & READ_PIPE_OK))) {
    close(fd);
    errorf("%s: the %s is %s, not a regular file%s", path, what, file_kind(st.st_mode),
           (flags & READ_PIPE_OK) ? " or a pipe" : "");
    return -1;
  }
  /* A pipe's writer may still be producing: wait for it (a FIFO without a
   * writer reads as empty at once). */
  if (is_pipe && !make_blocking(fd)) {
    return fail_closing(fd, path, "read", what);
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
  if (is_pipe && n == 0) {
    free(buf);
    errorf("%s: nothing to read from the %s (a FIFO with no writer?)", path, what);
    return -1;
  }
  *out = buf;
  *len = n;
  return 1;
}

int open_output(const char *path, const char *what, unsigned flags) {
  /* No O_TRUNC: a refused file stays as it was. */
  int fd = open(path,
                O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC |
                    ((flags & OUT_APPEND) ? O_APPEND : 0),
                (flags & OUT_SECRET) ? 0600 : 0666);
  if (fd < 0) {
    int err = errno;
    struct stat st;
    if (err == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
      errorf("%s: cannot write the %s: a FIFO with no reader (start the reader first)", path,
             what);
    } else {
      errorf("%s: cannot write the %s: %s", path, what, strerror(err));
    }
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return fail_closing(fd, path, "write", what);
  }
  if (S_ISREG(st.st_mode)) {
    /* Refused, not warned about: a warning would come after the secrets
     * were already where group or others can read them, and making the
     * file 0600 behind the user's back (as this tool once did) changes a
     * mode the user may rely on. A file created just now is 0600 and never
     * lands here. */
    if ((flags & OUT_SECRET) && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
      close(fd);
      errorf("%s: refusing to write the %s: group or others can read it (mode %04o); "
             "chmod 600 %s, or name a new file",
             path, what, (unsigned)(st.st_mode & 07777), path);
      return -1;
    }
    if (!(flags & OUT_APPEND) && ftruncate(fd, 0) != 0) {
      return fail_closing(fd, path, "write", what);
    }
  }
  if (!make_blocking(fd)) {
    return fail_closing(fd, path, "write", what);
  }
  return fd;
}

bool write_secret_file(const char *path, const char *what, const uint8_t *data, size_t len) {
  /* The rename below replaces the directory entry: over a device node or
   * FIFO (/dev/null as root) it would replace that, not write to it. */
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    errorf("%s: the %s is %s, not a regular file", path, what, file_kind(st.st_mode));
    return false;
  }
  /* A temporary file beside it, so the rename is atomic and a reader never
   * sees half a file; mkstemp() creates it 0600. */
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (tmp == NULL) {
    errorf("%s: cannot write the %s: %s", path, what, strerror(ENOMEM));
    return false;
  }
  snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    errorf("%s: cannot write the %s: %s", path, what, strerror(errno));
    free(tmp);
    return false;
  }
  bool ok = true;
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
    errorf("%s: cannot write the %s: %s", path, what, strerror(err != 0 ? err : EIO));
  }
  free(tmp);
  return ok;
}
