/**
 * @file udp_cost.c  What the kernel charges per RTP packet on loopback, without deskline: the floor
 *                   under the media benchmarks' figures on one core.
 *
 *   udp_cost [-u] [-s SOCKETS] [-r ROUNDS] [-b BYTES]
 *
 * It does with plain sockets exactly the system calls deskline's media path makes per packet, on
 * the CPU it runs on (bench/udp_floor.sh pins it like deskline):
 *
 *   send  SOCKETS sockets, each connect()ed to one receiving socket (deskline's legs sending to a
 *         far end), send() one BYTES datagram each per round. On loopback the send delivers the
 *         packet into the receiver's queue inside the system call, so this is also the far end's
 *         kernel receive work.
 *   recv  SOCKETS sockets (deskline's legs) in an edge-triggered epoll set get one datagram each
 *         per round from one far-end socket (sendmmsg, not timed); then, timed, epoll_wait(2)
 *         and one recvmmsg(2) per ready socket read them all, as deskline's workers do.
 *
 * With -u, the same packets go the way deskline's workers move them with media.io_uring = true:
 *
 *   send  one IORING_OP_SEND (MSG_DONTWAIT, fixed file) per leg queued on an io_uring, all of a
 *         round submitted together (io_uring_submit, one system call per 1024).
 *   recv  every leg has a multishot recvmsg with provided buffers; timed, one io_uring_enter
 *         runs the receives and the completions are taken and their buffers given back. (The
 *         ring defers the receives to that call — IORING_SETUP_DEFER_TASKRUN — so they are
 *         timed; deskline's rings run the same receives at their next system call instead.)
 *
 * Prints one line of NAME=VALUE pairs: send_ns and recv_ns per packet (the median of the rounds,
 * whole rounds timed), and the sockets, rounds and bytes used.
 * Sends to 127.0.0.1 only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <liburing.h>

#define RX_BATCH  64
#define EP_BATCH  256
#define MAX_BYTES 1500
#define URING_ENTRIES 1024
#define URING_BUFS    32768
#define URING_BUF     2048

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "udp_cost: %s: %s\n", what, strerror(errno));
	exit(1);
}

/** A UDP socket bound to 127.0.0.1 on a port the kernel picks; its address in @p sin. */
static int udp_socket(struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*sin);

	if (fd < 0)
		die("socket");
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) < 0)
		die("bind");
	return fd;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return v[n / 2];
}

/** The io_uring of -u: a ring, its receive buffers and the receive template. */
struct uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	struct msghdr mh;
};

static void uring_die(const char *what, int err)
{
	errno = -err;
	die(what);
}

static struct io_uring_sqe *uring_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/** Set up the ring, register @p legs as fixed files (index = leg) and arm their receives. */
static void uring_setup(struct uring *u, const int *legs, int sockets)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
		.cq_entries = URING_BUFS * 2,
	};
	int err = io_uring_queue_init_params(URING_ENTRIES, &u->ring, &p);

	if (err < 0)
		uring_die("io_uring_queue_init_params", err);
	size_t br_bytes = sizeof(struct io_uring_buf) * URING_BUFS;
	u->br = aligned_alloc(4096, br_bytes);
	u->bufs = malloc((size_t)URING_BUFS * URING_BUF);
	if (!u->br || !u->bufs)
		die("malloc");
	memset(u->br, 0, br_bytes);
	struct io_uring_buf_reg reg = { .ring_addr = (uint64_t)(uintptr_t)u->br,
					.ring_entries = URING_BUFS, .bgid = 1 };
	if ((err = io_uring_register_buf_ring(&u->ring, &reg, 0)) < 0)
		uring_die("io_uring_register_buf_ring", err);
	io_uring_buf_ring_init(u->br);
	for (int i = 0; i < URING_BUFS; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * URING_BUF, URING_BUF,
				      (unsigned short)i, io_uring_buf_ring_mask(URING_BUFS), i);
	io_uring_buf_ring_advance(u->br, URING_BUFS);
	if ((err = io_uring_register_files(&u->ring, legs, (unsigned)sockets)) < 0)
		uring_die("io_uring_register_files", err);
	u->mh.msg_namelen = sizeof(struct sockaddr_in6);
	for (int i = 0; i < sockets; i++) {
		struct io_uring_sqe *sqe = uring_sqe(u);
		io_uring_prep_recvmsg_multishot(sqe, i, &u->mh, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT | IOSQE_FIXED_FILE;
		sqe->buf_group = 1;
		io_uring_sqe_set_data64(sqe, (uint64_t)i + 1);
	}
	io_uring_submit(&u->ring);
}

/** Every leg sends one packet: a SEND each, submitted together. */
static void uring_send_round(struct uring *u, int sockets, const uint8_t *pkt, int bytes)
{
	for (int i = 0; i < sockets; i++) {
		struct io_uring_sqe *sqe = uring_sqe(u);
		io_uring_prep_send(sqe, i, pkt, (size_t)bytes, MSG_DONTWAIT);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, 0);
	}
	io_uring_submit(&u->ring);
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		if (cqe->user_data == 0 && cqe->res < 0)
			uring_die("send", cqe->res);
		io_uring_cqe_seen(&u->ring, cqe);
	}
}

/** Run the legs' receives and take @p sockets packets from the completions. */
static void uring_recv_round(struct uring *u, int sockets)
{
	unsigned mask = (unsigned)io_uring_buf_ring_mask(URING_BUFS);

	for (int got = 0; got < sockets;) {
		struct __kernel_timespec ts = { .tv_sec = 1 };
		struct io_uring_cqe *cqe;
		int err = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
		if (err < 0) {
			fprintf(stderr, "udp_cost: %d of %d packets arrived\n", got, sockets);
			exit(1);
		}
		unsigned head, n = 0;
		io_uring_for_each_cqe(&u->ring, head, cqe) {
			n++;
			if (cqe->user_data == 0)
				continue;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				uring_die("multishot recvmsg ended", cqe->res ? cqe->res : -EIO);
			unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			uint8_t *buf = u->bufs + (size_t)bid * URING_BUF;
			if (!io_uring_recvmsg_validate(buf, cqe->res, &u->mh))
				uring_die("recvmsg_validate", -EINVAL);
			io_uring_buf_ring_add(u->br, buf, URING_BUF, (unsigned short)bid, mask, 0);
			io_uring_buf_ring_advance(u->br, 1);
			got++;
		}
		io_uring_cq_advance(&u->ring, n);
	}
}

int main(int argc, char **argv)
{
	int sockets = 2000, rounds = 200, bytes = 172, opt;
	bool use_uring = false;

	while ((opt = getopt(argc, argv, "us:r:b:")) != -1) {
		switch (opt) {
		case 'u': use_uring = true; break;
		case 's': sockets = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'b': bytes = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: udp_cost [-u] [-s SOCKETS] [-r ROUNDS] [-b BYTES]\n");
			return 2;
		}
	}
	if (sockets < 1 || sockets > 30000 || rounds < 3 || bytes < 12 || bytes > MAX_BYTES) {
		fprintf(stderr, "udp_cost: 1 ≤ SOCKETS ≤ 30000, ROUNDS ≥ 3, 12 ≤ BYTES ≤ %d\n",
			MAX_BYTES);
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)sockets * 2 + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	uint8_t pkt[MAX_BYTES];
	memset(pkt, 0xFF, sizeof(pkt));
	pkt[0] = 0x80;
	int big = 64 << 20;
	int64_t *t_send = calloc((size_t)rounds, sizeof(int64_t));
	int64_t *t_recv = calloc((size_t)rounds, sizeof(int64_t));
	int *legs = calloc((size_t)sockets, sizeof(int));
	struct sockaddr_in *leg_addr = calloc((size_t)sockets, sizeof(*leg_addr));
	if (!t_send || !t_recv || !legs || !leg_addr)
		die("calloc");

	/* The far end: one socket, a big buffer so nothing is dropped between rounds. */
	struct sockaddr_in far_addr;
	int far = udp_socket(&far_addr);
	setsockopt(far, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(far, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	for (int i = 0; i < sockets; i++) {
		legs[i] = udp_socket(&leg_addr[i]);
		if (connect(legs[i], (struct sockaddr *)&far_addr, sizeof(far_addr)) < 0)
			die("connect");
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i };
		if (!use_uring && epoll_ctl(ep, EPOLL_CTL_ADD, legs[i], &ev) < 0)
			die("epoll_ctl");
	}

	static uint8_t rx_bufs[RX_BATCH][MAX_BYTES];
	static struct iovec rx_iov[RX_BATCH];
	static struct mmsghdr rx_msgs[RX_BATCH];
	for (int k = 0; k < RX_BATCH; k++) {
		rx_iov[k].iov_base = rx_bufs[k];
		rx_iov[k].iov_len = MAX_BYTES;
		rx_msgs[k].msg_hdr.msg_iov = &rx_iov[k];
		rx_msgs[k].msg_hdr.msg_iovlen = 1;
	}
	struct mmsghdr *tx_msgs = calloc((size_t)sockets, sizeof(*tx_msgs));
	struct iovec tx_iov = { .iov_base = pkt, .iov_len = (size_t)bytes };
	if (!tx_msgs)
		die("calloc");
	for (int i = 0; i < sockets; i++) {
		tx_msgs[i].msg_hdr.msg_iov = &tx_iov;
		tx_msgs[i].msg_hdr.msg_iovlen = 1;
		tx_msgs[i].msg_hdr.msg_name = &leg_addr[i];
		tx_msgs[i].msg_hdr.msg_namelen = sizeof(leg_addr[i]);
	}

	struct uring u;
	if (use_uring)
		uring_setup(&u, legs, sockets);
	for (int r = 0; r < rounds; r++) {
		/* send: every leg sends one packet to the far end. */
		int64_t t0 = now_ns();
		if (use_uring)
			uring_send_round(&u, sockets, pkt, bytes);
		else
			for (int i = 0; i < sockets; i++)
				if (send(legs[i], pkt, (size_t)bytes, 0) != bytes)
					die("send");
		t_send[r] = now_ns() - t0;
		/* Empty the far end (not timed). */
		while (recvmmsg(far, rx_msgs, RX_BATCH, MSG_DONTWAIT, NULL) > 0)
			;

		/* recv: the far end sends one packet to every leg (not timed), the legs read them. */
		for (int done = 0; done < sockets;) {
			int n = sendmmsg(far, tx_msgs + done, (unsigned)(sockets - done), 0);
			if (n <= 0)
				die("sendmmsg");
			done += n;
		}
		int64_t t1 = now_ns();
		int got = use_uring ? sockets : 0;
		if (use_uring)
			uring_recv_round(&u, sockets);
		struct epoll_event evs[EP_BATCH];
		while (got < sockets) {
			int n = epoll_wait(ep, evs, EP_BATCH, 1000);
			if (n <= 0) {
				fprintf(stderr, "udp_cost: %d of %d packets arrived\n", got, sockets);
				return 1;
			}
			for (int e = 0; e < n; e++) {
				int m = recvmmsg(legs[evs[e].data.u32], rx_msgs, RX_BATCH, MSG_DONTWAIT,
						 NULL);
				if (m > 0)
					got += m;
			}
		}
		t_recv[r] = now_ns() - t1;
	}

	printf("io=%s send_ns=%lld recv_ns=%lld sockets=%d rounds=%d bytes=%d\n",
	       use_uring ? "io_uring" : "epoll", (long long)(median(t_send, rounds) / sockets),
	       (long long)(median(t_recv, rounds) / sockets), sockets, rounds, bytes);
	if (use_uring) {
		io_uring_queue_exit(&u.ring);
		free(u.br);
		free(u.bufs);
	}
	for (int i = 0; i < sockets; i++)
		close(legs[i]);
	close(far);
	close(ep);
	free(tx_msgs);
	free(legs);
	free(leg_addr);
	free(t_send);
	free(t_recv);
	return 0;
}
