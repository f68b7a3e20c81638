/* SPDX-License-Identifier: Apache-2.0 */
/* UDP sockets and addresses (IPv4 and IPv6). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
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

/* ---- batched datagram I/O ---- */

bool net_rx_init(net_rx_batch *b) {
  memset(b, 0, sizeof(*b));
  /* Pages that no datagram touches are never made resident. */
  b->bufs = malloc((size_t)NET_BATCH * NET_DATAGRAM_MAX);
  return b->bufs != NULL;
}

void net_rx_free(net_rx_batch *b) {
  free(b->bufs);
  b->bufs = NULL;
}

int net_recv_batch(int fd, net_rx_batch *b) {
  for (int i = 0; i < NET_BATCH; i++) {
    b->iov[i] = (struct iovec){.iov_base = b->bufs + (size_t)i * NET_DATAGRAM_MAX,
                               .iov_len = NET_DATAGRAM_MAX};
    memset(&b->from[i], 0, sizeof(b->from[i]));
    b->msgs[i].msg_hdr = (struct msghdr){.msg_name = &b->from[i].ss,
                                         .msg_namelen = sizeof(b->from[i].ss),
                                         .msg_iov = &b->iov[i],
                                         .msg_iovlen = 1,
                                         .msg_control = b->control[i].bytes,
                                         .msg_controllen = sizeof(b->control[i].bytes)};
  }
  int n;
  do {
    n = recvmmsg(fd, b->msgs, NET_BATCH, MSG_DONTWAIT, NULL);
  } while (n < 0 && (errno == EINTR || errno == ECONNREFUSED));
  if (n <= 0) {
    return 0;
  }
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &b->msgs[i].msg_hdr;
    b->from[i].len = h->msg_namelen;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        memcpy(&b->kernel_drops, CMSG_DATA(c), sizeof(b->kernel_drops));
      }
    }
  }
  return n;
}

void net_tx_flush(net_tx_batch *b) {
  size_t done = 0;
  while (done < b->count) {
    int n = sendmmsg(b->fd, b->msgs + done, (unsigned)(b->count - done), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    /* Refused: that datagram is lost (DTLS retransmits); on to the next. */
    done += n > 0 ? (size_t)n : 1;
  }
  b->count = b->used = 0;
}

void net_tx_queue(net_tx_batch *b, const uint8_t *data, size_t len, const net_addr *to) {
  if (len > sizeof(b->buf)) {
    net_tx_flush(b); /* in order */
    net_send(b->fd, data, len, to);
    return;
  }
  if (b->count == NET_BATCH || len > sizeof(b->buf) - b->used) {
    net_tx_flush(b);
  }
  size_t i = b->count++;
  memcpy(b->buf + b->used, data, len);
  b->to[i] = *to;
  b->iov[i] = (struct iovec){.iov_base = b->buf + b->used, .iov_len = len};
  b->msgs[i].msg_hdr = (struct msghdr){
      .msg_name = &b->to[i].ss, .msg_namelen = to->len, .msg_iov = &b->iov[i], .msg_iovlen = 1};
  b->used += len;
}

/* Sets one buffer size: the plain option, which net.core.*mem_max caps,
 * then the forced one where it fell short and the process may. */
static void set_buffer(int fd, int option, int force_option, int bytes) {
  int got = 0;
  socklen_t len = sizeof(got);
  if (setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes)) == 0 &&
      getsockopt(fd, SOL_SOCKET, option, &got, &len) == 0 && got / 2 >= bytes) {
    return; /* the kernel reports twice what it was asked */
  }
  (void)setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof(bytes)); /* EPERM: capped */
}

bool net_server_buffers(int fd, int rcvbuf, int sndbuf, int *got_rcvbuf, int *got_sndbuf) {
  if (rcvbuf > 0) {
    set_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, rcvbuf);
  }
  if (sndbuf > 0) {
    set_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, sndbuf);
  }
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) != 0) {
    errorf("SO_RXQ_OVFL: %s", strerror(errno));
    return false;
  }
  socklen_t len = sizeof(*got_rcvbuf);
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, got_rcvbuf, &len) != 0 ||
      (len = sizeof(*got_sndbuf), getsockopt(fd, SOL_SOCKET, SO_SNDBUF, got_sndbuf, &len)) != 0) {
    errorf("getsockopt: %s", strerror(errno));
    return false;
  }
  return true;
}
