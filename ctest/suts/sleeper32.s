# A 32-bit (i386) process that sleeps 1.5 s on CLOCK_MONOTONIC and exits 0:
# for the stuck watch, whose syscall numbers are x86-64's. Stopped and
# continued in its sleep, it shows i386's restart_syscall (0) with the clock
# id (1) as its first argument, which read as x86-64 is read(1, ...).
# Built with `as --32` and `ld -m elf_i386` (binutils only, no 32-bit libc).
.globl _start
_start:
  mov $267, %eax        # clock_nanosleep(CLOCK_MONOTONIC, 0, &sleep, NULL)
  mov $1, %ebx
  xor %ecx, %ecx
  mov $sleep, %edx
  xor %esi, %esi
  int $0x80
  mov $1, %eax          # exit(0)
  xor %ebx, %ebx
  int $0x80
.data
sleep: .long 1, 500000000
