/*
 * dup_zygote.c - a relay in front of the real coderally-botd zygote that
 * sends the host every zygote reply twice (same sequence number, same fds),
 * as a confused or hostile zygote might. The host must use the first copy
 * and discard the second without harming the worker it names.
 *
 *   dup_zygote --zygote 3     (started by the host in place of coderally-botd)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef CR_BOTD_PATH
#define CR_BOTD_PATH "coderally-botd"
#endif

enum { HOST_FD = 3 };

/* Forwards one packet with its fds from `from` to `to`, `copies` times. */
static int relay(int from, int to, int copies) {
    char buf[1024];
    union {
        struct cmsghdr h;
        char c[CMSG_SPACE(4 * sizeof(int))];
    } cm;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.c, .msg_controllen = sizeof cm.c};
    ssize_t n = recvmsg(from, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) return 0;
    if (n <= 0) return -1;
    iov.iov_len = (size_t)n;
    for (int i = 0; i < copies; i++) {
        if (sendmsg(to, &msg, MSG_NOSIGNAL) != n) return -1;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof fd);
            close(fd);
        }
    }
    return 0;
}

int main(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        if (dup2(sv[1], HOST_FD) < 0) _exit(1);
        char *argv[] = {CR_BOTD_PATH, "--zygote", "3", NULL};
        char *envp[] = {NULL};
        execve(CR_BOTD_PATH, argv, envp);
        _exit(127);
    }
    close(sv[1]);
    struct pollfd p[2] = {{HOST_FD, POLLIN, 0}, {sv[0], POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (p[0].revents && relay(HOST_FD, sv[0], 1) < 0) return 0;
        if (p[1].revents && relay(sv[0], HOST_FD, 2) < 0) return 0;
    }
}
