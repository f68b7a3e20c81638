/* SPDX-License-Identifier: Apache-2.0 */
/* UDP sockets and addresses (IPv4 and IPv6). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

bool net_split_host_port(const char *spec, char *host, size_t host_len, char *port,
                         size_t port_len) {
  const char *h, *p;
  size_t hl;
  if (spec[0] == '[') {
    const char *close = strchr(spec, ']');
    if (close == NULL || close[1] != ':') {
      return false;
    }
    h = spec + 1;
    hl = (size_t)(close - h);
    p = close + 2;
  } else {
    const char *colon = strrchr(spec, ':');
    if (colon == NULL) {
      return false;
    }
    h = spec;
    hl = (size_t)(colon - spec);
    p = colon + 1;
    if (memchr(h, ':', hl) != NULL) {
      return false; /* a bare IPv6 address needs brackets */
    }
  }
  size_t pl = strlen(p);
  if (hl == 0 || hl >= host_len || pl == 0 || pl >= port_len) {
    return false;
  }
  for (size_t i = 0; i < pl; i++) {
    if (p[i] < '0' || p[i] > '9') {
      return false;
    }
  }
  memcpy(host, h, hl);
  host[hl] = '\0';
  memcpy(port, p, pl + 1);
  long v;
  return parse_long(port, 0, 65535, &v);
}

int net_resolve(const char *host, const char *port, bool passive, net_addr *out, int max) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    errorf("cannot resolve %s: %s", host, gai_strerror(rc));
    return -1;
  }
  int n = 0;
  for (struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > sizeof(out[n].ss)) {
      continue;
    }
    memset(&out[n], 0, sizeof(out[n]));
    memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
    out[n].len = (socklen_t)ai->ai_addrlen;
    n++;
  }
  freeaddrinfo(res);
  if (n == 0) {
    errorf("no IPv4 or IPv6 address for %s", host);
    return -1;
  }
  return n;
}

void net_format(const net_addr *addr, char *out, size_t out_len) {
  const struct sockaddr *sa = (const struct sockaddr *)&addr->ss;
  char host[INET6_ADDRSTRLEN + 16];
  if (sa->sa_family == AF_INET && addr->len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    snprintf(out, out_len, "%s:%u", host, (unsigned)ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6 && addr->len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    if (in6->sin6_scope_id != 0) {
      snprintf(out, out_len, "[%s%%%u]:%u", host, (unsigned)in6->sin6_scope_id,
               (unsigned)ntohs(in6->sin6_port));
    } else {
      snprintf(out, out_len, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    }
  } else {
    snprintf(out, out_len, "(unknown address)");
  }
}

bool net_addr_from(net_addr *out, const uint8_t *addr, size_t len) {
  memset(out, 0, sizeof(*out));
  if (len > sizeof(out->ss)) {
    return false;
  }
  memcpy(&out->ss, addr, len);
  out->len = (socklen_t)len;
  return true;
}

void net_local_name(int fd, const net_addr *fallback, char *out, size_t out_len) {
  net_addr bound;
  memset(&bound, 0, sizeof(bound));
  bound.len = sizeof(bound.ss);
  if (getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len) != 0) {
    bound = *fallback;
  }
  net_format(&bound, out, out_len);
}

long net_recv(int fd, uint8_t *buf, size_t len, net_addr *from) {
  for (;;) {
    memset(from, 0, sizeof(*from));
    from->len = sizeof(from->ss);
    ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&from->ss, &from->len);
    if (n >= 0) {
      return (long)n;
    }
    if (errno != EINTR && errno != ECONNREFUSED) {
      return -1;
    }
  }
}

long net_recv_connected(int fd, uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = recv(fd, buf, len, 0);
    if (n >= 0) {
      return (long)n;
    }
    if (errno == ECONNREFUSED) {
      return NET_REFUSED;
    }
    if (errno != EINTR) {
      return -1;
    }
  }
}

int net_send(int fd, const uint8_t *data, size_t len, const net_addr *to) {
  ssize_t n;
  do {
    n = to != NULL ? sendto(fd, data, len, 0, (const struct sockaddr *)&to->ss, to->len)
                   : send(fd, data, len, 0);
  } while (n < 0 && errno == EINTR);
  if (n >= 0 && (size_t)n != len) {
    errno = EMSGSIZE; /* not for UDP; errno stays meaningful all the same */
  }
  return n == (ssize_t)len ? 0 : -1;
}

static int udp_socket(int family) {
  return socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
}

int net_udp_bind(const net_addr *addr, bool reuse_port) {
  char text[128];
  net_format(addr, text, sizeof(text));
  int fd = udp_socket(addr->ss.ss_family);
  if (fd < 0) {
    errorf("socket: %s", strerror(errno));
    return -1;
  }
  int on = 1;
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) {
    errorf("SO_REUSEPORT: %s", strerror(errno));
    close(fd);
    return -1;
  }
  if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
    errorf("cannot listen on %s: %s", text, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int net_udp_connect(const net_addr *addr) {
  int fd = udp_socket(addr->ss.ss_family);
  if (fd < 0) {
    return -1;
  }
  if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}
