#!/usr/bin/env bash
# Build capture/guest/build/dirtier.elf (a 32-bit multiboot ELF, a few KB) with the host's
# gcc/as/ld: plain Debian 12 gcc is enough; -m32 needs no multilib because nothing from libc
# or libgcc is linked. `migtrace capture` runs this itself when the ELF is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
mkdir -p "$out"
CC=${CC:-gcc}
CFLAGS="-m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
  -fno-asynchronous-unwind-tables -fno-builtin -nostdlib -O2 -Wall -Wextra"
$CC $CFLAGS -c "$here/start.S" -o "$out/start.o"
$CC $CFLAGS -c "$here/dirtier.c" -o "$out/dirtier.o"
ld -m elf_i386 -nostdlib -z noexecstack --no-warn-rwx-segments -T "$here/link.ld" -o "$out/dirtier.elf.tmp" "$out/start.o" "$out/dirtier.o"
mv "$out/dirtier.elf.tmp" "$out/dirtier.elf"
echo "$out/dirtier.elf"
