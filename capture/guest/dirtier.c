/* dirtier: a tiny multiboot guest that keeps dirtying memory, so a postcopy migration keeps
 * faulting pages on the destination (that is what makes the source's return-path thread send
 * urgent pages), and that checks its own memory, so its serial log says whether the guest
 * survived the migration intact.
 *
 * Kernel command line (QEMU -append): ws=<MiB> working-set size, default 40, clamped to RAM.
 * Every sweep walks the working set page by page; word 0 of each page holds the number of the
 * last sweep that wrote it. Sweep n expects n-1 there (any other value is a page the migration
 * lost or corrupted), counts and reports a mismatch, and writes n.
 *
 * COM1 output (QEMU -serial file:...):
 *   dirtier: cmdline='<cmdline>' mem_upper_kb=<kb> ws_mb=<MiB> pages=<n>     once, at boot
 *   hb t=<s> sweep=<n> bad=<n>         once a second (RTC seconds tick), t counts from boot
 *   BAD page=0x<addr> expect=<n> got=<n>   the first 32 mismatches only
 * Everything lives in guest RAM (counters in .bss), so after a migration the destination's
 * serial log simply continues the same sequence.
 *
 * No libc, no interrupts, no paging: built with gcc -m32 -ffreestanding (see build.sh). */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define MB_BOOTLOADER_MAGIC 0x2BADB002u
#define WS_BASE 0x200000u   /* 2 MiB: above the image, stack and multiboot info */
#define PAGE 4096u
#define MAX_BAD_LINES 32u

struct mb_info {
  u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc(char c) {
  /* Wait for the transmit holding register; with a file backend it is always empty. */
  for (u32 i = 0; i < 100000u && !(inb(0x3fd) & 0x20); i++) {}
  outb(0x3f8, (u8)c);
}
static void puts(const char *s) { while (*s) putc(*s++); }
static void putu(u32 v) {
  char buf[11]; int i = 10; buf[i] = 0;
  do { buf[--i] = (char)('0' + v % 10u); v /= 10u; } while (v);
  puts(&buf[i]);
}
static void putx(u32 v) {
  puts("0x");
  for (int s = 28; s >= 0; s -= 4) putc("0123456789abcdef"[(v >> s) & 0xfu]);
}

/* RTC seconds register (CMOS 0x00), read until two reads agree so an update in progress is
 * never seen half-done. Only compared for change, so BCD vs binary does not matter. */
static u8 rtc_seconds(void) {
  u8 a, b;
  do {
    outb(0x70, 0x00); a = inb(0x71);
    outb(0x70, 0x00); b = inb(0x71);
  } while (a != b);
  return a;
}

static u32 parse_ws(const char *s, u32 dflt) {
  for (const char *p = s; *p; p++) {
    if ((p == s || p[-1] == ' ') && p[0] == 'w' && p[1] == 's' && p[2] == '=') {
      u32 v = 0; const char *q = p + 3;
      if (*q < '0' || *q > '9') return dflt;
      while (*q >= '0' && *q <= '9') v = v * 10u + (u32)(*q++ - '0');
      return v;
    }
  }
  return dflt;
}

/* Guest state, all in .bss (outside the working set): it migrates with the guest. */
static u32 seconds, sweep, bad, bad_lines;
static u8 last_rtc;

static void tick(void) {
  u8 now = rtc_seconds();
  if (now == last_rtc) return;
  last_rtc = now;
  seconds++;
  puts("hb t="); putu(seconds); puts(" sweep="); putu(sweep); puts(" bad="); putu(bad); putc('\n');
}

void kmain(u32 magic, const struct mb_info *mbi) {
  const char *cmdline = "";
  u32 mem_upper_kb = 0;
  if (magic == MB_BOOTLOADER_MAGIC) {
    if (mbi->flags & 0x1u) mem_upper_kb = mbi->mem_upper;
    if (mbi->flags & 0x4u) cmdline = (const char *)mbi->cmdline;
  }
  u32 ws_mb = parse_ws(cmdline, 40);
  /* RAM ends at 1 MiB + mem_upper; keep the working set inside it. */
  u32 top = 0x100000u + mem_upper_kb * 1024u;
  u32 max_mb = top > WS_BASE ? (top - WS_BASE) >> 20 : 0;
  if (mem_upper_kb == 0) max_mb = 4;
  if (ws_mb > max_mb) ws_mb = max_mb;
  if (ws_mb == 0) ws_mb = 1;
  u32 pages = ws_mb * (0x100000u / PAGE);

  puts("dirtier: cmdline='"); puts(cmdline); puts("' mem_upper_kb="); putu(mem_upper_kb);
  puts(" ws_mb="); putu(ws_mb); puts(" pages="); putu(pages); putc('\n');

  last_rtc = rtc_seconds();
  for (;;) {
    u32 expect = sweep, next = sweep + 1;
    for (u32 i = 0; i < pages; i++) {
      volatile u32 *w = (volatile u32 *)(WS_BASE + i * PAGE);
      u32 got = *w;
      /* Sweep 0 finds whatever the firmware left; every later sweep must find its own mark. */
      if (sweep != 0 && got != expect) {
        bad++;
        if (bad_lines < MAX_BAD_LINES) {
          bad_lines++;
          puts("BAD page="); putx(WS_BASE + i * PAGE); puts(" expect="); putu(expect);
          puts(" got="); putu(got); putc('\n');
        }
      }
      *w = next;
      /* A sweep can take long while pages are being fetched in postcopy: tick inside it too. */
      if ((i & 1023u) == 1023u) tick();
    }
    sweep = next;
    tick();
  }
}
