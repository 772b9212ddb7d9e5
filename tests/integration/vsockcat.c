/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vsockcat: one stream, one way, for the vsock scenarios (the test host and
 * its guest have busybox, whose nc has neither AF_VSOCK nor unix sockets).
 *
 *   vsockcat send|recv listen-vsock PORT
 *   vsockcat send|recv connect-vsock CID PORT
 *   vsockcat send|recv listen-unix PATH
 *   vsockcat send|recv connect-unix PATH
 *
 * send: copies standard input to the stream, then closes it. recv: copies
 * the stream to standard output until it ends. A listener takes one
 * connection. Exit status 0, or 1 with a message.
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
        fprintf(stderr, "vsockcat: %s: %s\n", what, strerror(errno));
        return 1;
}

static int copy(int from, int to)
{
        static char buf[65536];
        for (;;) {
                ssize_t n = read(from, buf, sizeof(buf));
                if (n == 0)
                        return 0;
                if (n < 0)
                        return errno == EINTR ? copy(from, to) : die("read");
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(to, buf + off, (size_t)(n - off));
                        if (w < 0)
                                return die("write");
                        off += w;
                }
        }
}

int main(int argc, char **argv)
{
        if (argc < 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
                fprintf(stderr, "usage: vsockcat send|recv listen-vsock PORT | connect-vsock CID "
                                "PORT | listen-unix PATH | connect-unix PATH\n");
                return 2;
        }
        bool vsock = strstr(argv[2], "vsock") != NULL, listening = !strncmp(argv[2], "listen", 6);
        struct sockaddr_vm vm = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY};
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        struct sockaddr *a = vsock ? (struct sockaddr *)&vm : (struct sockaddr *)&un;
        socklen_t alen = vsock ? sizeof(vm) : sizeof(un);
        if (vsock && !listening && argc > 4) {
                vm.svm_cid = (unsigned)atoi(argv[3]);
                vm.svm_port = (unsigned)atoi(argv[4]);
        } else if (vsock) {
                vm.svm_port = (unsigned)atoi(argv[3]);
        } else {
                snprintf(un.sun_path, sizeof(un.sun_path), "%s", argv[3]);
        }
        int s = socket(vsock ? AF_VSOCK : AF_UNIX, SOCK_STREAM, 0);
        if (s < 0)
                return die("socket");
        if (listening) {
                if (!vsock)
                        unlink(un.sun_path);
                if (bind(s, a, alen) < 0 || listen(s, 1) < 0)
                        return die("listen");
                fprintf(stderr, "vsockcat: listening\n");
                int c = accept(s, NULL, NULL);
                if (c < 0)
                        return die("accept");
                close(s);
                s = c;
        } else if (connect(s, a, alen) < 0) {
                return die("connect");
        }
        int rc = argv[1][0] == 's' ? copy(0, s) : copy(s, 1);
        close(s);
        return rc;
}
