/* virtio_blk.c - a polled driver for a legacy virtio-blk PCI device (vendor
 * 1AF4, device 1001), the guest side of disk.h: PCI configuration mechanism #1
 * to find it and enable I/O and bus mastering, the legacy register block in
 * BAR0, one split virtqueue in the legacy layout, one request at a time, and
 * completion seen by polling the used ring (interrupts stay off). */
#include "sdk.h"
#include "disk.h"

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
#define barrier() __asm__ volatile("" ::: "memory")

static uint32_t pci_read(int dev, int reg)
{
    outl(0xCF8, 0x80000000u | ((uint32_t)dev << 11) | (uint32_t)reg);
    return inl(0xCFC);
}

static void pci_write(int dev, int reg, uint32_t v)
{
    outl(0xCF8, 0x80000000u | ((uint32_t)dev << 11) | (uint32_t)reg);
    outl(0xCFC, v);
}

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct req_hdr { uint32_t type, ioprio; uint64_t sector; };

static uint16_t io;
static uint16_t qsize;
static volatile struct desc *descs;
static volatile uint16_t *avail;   /* flags, idx, ring[qsize] */
static volatile uint16_t *used;    /* flags, idx, then {u32 id, u32 len}[qsize] */
static uint16_t avail_idx, used_seen;
static uint8_t ring_mem[5 * 4096] __attribute__((aligned(4096))); /* up to 256 entries */
static struct req_hdr hdr;
static volatile uint8_t status;

uint64_t disk_open(void)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        if (pci_read(d, 0) == 0x10011AF4u) { dev = d; break; }
    }
    if (dev < 0)
        return 0;
    io = (uint16_t)(pci_read(dev, 0x10) & ~3u);
    pci_write(dev, 0x04, (pci_read(dev, 0x04) & 0xFFFF) | 0x5); /* I/O space, bus master */
    outb(io + 0x12, 0);                 /* reset */
    outb(io + 0x12, 1 | 2);             /* ACKNOWLEDGE | DRIVER */
    outl(io + 0x04, 0);                 /* no optional features */
    outw(io + 0x0E, 0);
    qsize = inw(io + 0x0C);
    if (qsize == 0 || qsize > 256)
        return 0;
    uint32_t desc_bytes = 16u * qsize, avail_bytes = 6u + 2u * qsize;
    uint32_t used_off = (desc_bytes + avail_bytes + 4095u) & ~4095u;
    descs = (volatile struct desc *)ring_mem;
    avail = (volatile uint16_t *)(ring_mem + desc_bytes);
    used = (volatile uint16_t *)(ring_mem + used_off);
    memset(ring_mem, 0, sizeof ring_mem);
    outl(io + 0x08, (uint32_t)(uintptr_t)ring_mem >> 12);
    outb(io + 0x12, 1 | 2 | 4);         /* DRIVER_OK */
    uint64_t cap = inl(io + 0x14) | ((uint64_t)inl(io + 0x18) << 32);
    return cap;
}

static int transfer(uint32_t type, uint64_t s, void *buf, uint32_t n)
{
    hdr.type = type;
    hdr.ioprio = 0;
    hdr.sector = s;
    status = 0xFF;
    descs[0].addr = (uint32_t)(uintptr_t)&hdr; descs[0].len = sizeof hdr; descs[0].flags = 1; descs[0].next = 1;
    descs[1].addr = (uint32_t)(uintptr_t)buf; descs[1].len = n * 512u; descs[1].flags = 1 | (type == 0 ? 2 : 0); descs[1].next = 2;
    descs[2].addr = (uint32_t)(uintptr_t)&status; descs[2].len = 1; descs[2].flags = 2; descs[2].next = 0;
    avail[2 + avail_idx % qsize] = 0;
    barrier();
    avail[1] = ++avail_idx;
    barrier();
    outw(io + 0x10, 0);                 /* notify queue 0 */
    while (used[1] == used_seen)
        barrier();
    used_seen = used[1];
    (void)inb(io + 0x13);               /* acknowledge the interrupt (ISR read clears it) */
    return status;
}

int disk_read(uint64_t s, void *buf, uint32_t n) { return transfer(0, s, buf, n); }
int disk_write(uint64_t s, const void *buf, uint32_t n) { return transfer(1, s, (void *)buf, n); }

int con_getc(void)
{
    while (!(inb(0x3F8 + 5) & 1))
        ;
    return inb(0x3F8);
}
