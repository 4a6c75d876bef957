/* host.c - the host shim for the oracle build: the same workload sources
 * built with `gcc -m32` for Linux. Console -> stdout, arguments from argv,
 * exit -> exit(), the SDK allocator over a static arena, and simulated
 * interrupts: wait_irq() delivers one timer tick (IRQ 0) if the PIT is
 * running, so a tick-driven workload produces the same output. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SDK_HOST 1
#include "sdk.h"

/* About what a 64 MiB guest has above its image. */
#define ARENA_SIZE (62u * 1024 * 1024)
static uint8_t arena[ARENA_SIZE] __attribute__((aligned(4096)));

static char outbuf[65536];
static size_t outlen;

static void flush_out(void)
{
    size_t off = 0;
    while (off < outlen) {
        ssize_t n = write(1, outbuf + off, outlen - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    outlen = 0;
}

int putchar(int c)
{
    if (outlen == sizeof outbuf)
        flush_out();
    outbuf[outlen++] = (char)c;
    return (unsigned char)c;
}

void exit(int status)
{
    flush_out();
    if (getenv("SDK_HEAP_REPORT")) {    /* diagnostics on stderr, never on stdout */
        char msg[64];
        size_t kib = heap_peak() / 1024, n = 0;
        char digits[16];
        do { digits[n++] = (char)('0' + kib % 10); kib /= 10; } while (kib);
        size_t m = 0;
        const char *pre = "heap peak KiB: ";
        while (*pre) msg[m++] = *pre++;
        while (n) msg[m++] = digits[--n];
        msg[m++] = '\n';
        if (write(2, msg, m) < 0) { /* ignore */ }
    }
    _exit(status);
}

void heartbeat(uint32_t value) { (void)value; }

void check_failed(uint32_t id)
{
    printf("self-check %08x failed\n", id);
    exit(EXIT_CHECK_FAIL);
}

/* ---- Simulated interrupts ---- */
static irq_handler_t handlers[16];
static int pit_running;

void irq_install(unsigned irq, irq_handler_t h) { if (irq < 16) handlers[irq] = h; }
void irq_uninstall(unsigned irq)                { if (irq < 16) handlers[irq] = 0; }
void sti(void) {}
void cli(void) {}
void pit_start(uint32_t hz) { (void)hz; pit_running = 1; }
void pit_stop(void)         { pit_running = 0; handlers[0] = 0; }

void wait_irq(void)
{
    if (pit_running && handlers[0]) {
        handlers[0](0);
        return;
    }
    printf("wait_irq: no interrupt source (the guest would hang)\n");
    exit(4);
}

int main(int argc, char **argv)
{
    static char cmdline[1024];
    size_t len = 0;
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (len + n + 2 > sizeof cmdline)
            break;
        if (len)
            cmdline[len++] = ' ';
        memcpy(cmdline + len, argv[i], n);
        len += n;
    }
    cmdline[len] = 0;
    args_parse(cmdline);
    heap_init(arena, arena + ARENA_SIZE);
    exit(workload_main());
}
