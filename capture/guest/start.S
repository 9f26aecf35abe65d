/* Multiboot (v1) entry for the dirtier guest.  QEMU's -kernel loader accepts a 32-bit ELF with
 * this header in its first 8 KiB and enters here in flat 32-bit protected mode, paging and
 * interrupts off, EAX = multiboot magic, EBX = physical address of the multiboot info. */
        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0x00000002          /* bit 1: ask for mem_lower/mem_upper */
        .set MB_CHECKSUM, -(MB_MAGIC + MB_FLAGS)

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long MB_CHECKSUM

        .section .bss
        .align 16
stack_bottom:
        .skip 16384
stack_top:

        .section .text
        .global _start
_start:
        cli
        mov  $stack_top, %esp
        push %ebx                         /* kmain(magic, mbinfo) */
        push %eax
        call kmain
1:      hlt
        jmp  1b

        .section .note.GNU-stack, "", @progbits
