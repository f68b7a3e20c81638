/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target on files, without libFuzzer: the regression
 * reproducers in tests/fuzz/regressions/<target>/ (hex text, '#' starts a
 * comment line) and any raw input. Exits non-zero when a file cannot be
 * read; a finding aborts, as under libFuzzer.
 *   replay_<target> FILE...   (a directory: every file in it) */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int ends_with(const char *s, const char *tail) {
  size_t a = strlen(s), b = strlen(tail);
  return a >= b && strcmp(s + a - b, tail) == 0;
}

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return 1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  int c;
  while (buf != NULL && (c = fgetc(f)) != EOF) {
    if (len == cap) {
      uint8_t *b = realloc(buf, cap *= 2);
      if (b == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = b;
    }
    buf[len++] = (uint8_t)c;
  }
  fclose(f);
  if (buf == NULL) return 1;
  if (ends_with(path, ".hex")) {
    size_t out = 0;
    int hi = -1, comment = 0;
    for (size_t i = 0; i < len; i++) {
      if (buf[i] == '\n') {
        comment = 0;
        continue;
      }
      if (buf[i] == '#') comment = 1;
      if (comment) continue;
      int v = hexval(buf[i]);
      if (v < 0) continue;
      if (hi < 0) {
        hi = v;
      } else {
        buf[out++] = (uint8_t)(hi << 4 | v);
        hi = -1;
      }
    }
    len = out;
  }
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int failed = 0, n = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *e;
      while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
        failed |= replay_file(path);
        n++;
      }
      if (d != NULL) closedir(d);
    } else {
      failed |= replay_file(argv[i]);
      n++;
    }
  }
  printf("replayed %d input(s)\n", n);
  return failed;
}
