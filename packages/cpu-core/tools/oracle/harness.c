/*
 * The oracle: runs user-level x86 instruction sequences on this machine's CPU.
 *
 * Reads fixed-size case records on stdin, writes result records on stdout (formats in
 * generate.mjs). Each case: the code bytes go to a page at CODE followed by a jump back
 * here, the registers and RFLAGS are loaded, the code runs, and the registers, RFLAGS,
 * the fault (as an x86 vector, from the signal) and the bytes of the data page at DATA
 * that changed are reported. Built twice: `gcc -O1` for 64-bit mode and `gcc -m32` for
 * 32-bit protected mode.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CODE 0x20000000UL
#define DATA 0x10000000UL
#define MAXDIFF 256

struct in_rec {
  uint8_t n;
  uint8_t code[63];
  uint64_t regs[16];
  uint64_t flags;
  uint32_t seed;
  uint32_t pad;
};

struct out_rec {
  uint32_t vector;
  uint32_t ndiff;
  uint64_t regs[16];
  uint64_t flags;
  uint16_t off[MAXDIFF];
  uint8_t val[MAXDIFF];
};

/* State the assembly stub loads from and stores to (regs[0..15], flags). */
uintptr_t st_in[17];
uintptr_t st_out[17];
uintptr_t saved_sp;
uintptr_t code_ptr = CODE;
uintptr_t back_ptr;

extern void run_case(void);
extern char run_case_back[];

#ifdef __x86_64__
__asm__(".text\n.globl run_case\nrun_case:\n"
        "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
        "mov %rsp, saved_sp(%rip)\n"
        "lea st_in(%rip), %rax\n"
        "pushq 128(%rax)\npopfq\n"
        "mov 8(%rax),%rcx\nmov 16(%rax),%rdx\nmov 24(%rax),%rbx\nmov 32(%rax),%rsp\nmov 40(%rax),%rbp\n"
        "mov 48(%rax),%rsi\nmov 56(%rax),%rdi\nmov 64(%rax),%r8\nmov 72(%rax),%r9\nmov 80(%rax),%r10\n"
        "mov 88(%rax),%r11\nmov 96(%rax),%r12\nmov 104(%rax),%r13\nmov 112(%rax),%r14\nmov 120(%rax),%r15\n"
        "mov 0(%rax),%rax\n"
        "jmp *code_ptr(%rip)\n"
        ".globl run_case_back\nrun_case_back:\n"
        "mov %rax, st_out+0(%rip)\nmov %rcx, st_out+8(%rip)\nmov %rdx, st_out+16(%rip)\nmov %rbx, st_out+24(%rip)\n"
        "mov %rsp, st_out+32(%rip)\nmov %rbp, st_out+40(%rip)\nmov %rsi, st_out+48(%rip)\nmov %rdi, st_out+56(%rip)\n"
        "mov %r8, st_out+64(%rip)\nmov %r9, st_out+72(%rip)\nmov %r10, st_out+80(%rip)\nmov %r11, st_out+88(%rip)\n"
        "mov %r12, st_out+96(%rip)\nmov %r13, st_out+104(%rip)\nmov %r14, st_out+112(%rip)\nmov %r15, st_out+120(%rip)\n"
        "mov saved_sp(%rip), %rsp\n"
        "pushfq\npop %rax\nmov %rax, st_out+128(%rip)\ncld\n"
        "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");
#define NREGS 16
#else
__asm__(".text\n.globl run_case\nrun_case:\n"
        "push %ebx\npush %ebp\npush %esi\npush %edi\n"
        "mov %esp, saved_sp\n"
        "lea st_in, %eax\n"
        "pushl 64(%eax)\npopfl\n"
        "mov 4(%eax),%ecx\nmov 8(%eax),%edx\nmov 12(%eax),%ebx\nmov 16(%eax),%esp\nmov 20(%eax),%ebp\n"
        "mov 24(%eax),%esi\nmov 28(%eax),%edi\nmov 0(%eax),%eax\n"
        "jmp *code_ptr\n"
        ".globl run_case_back\nrun_case_back:\n"
        "mov %eax, st_out+0\nmov %ecx, st_out+4\nmov %edx, st_out+8\nmov %ebx, st_out+12\n"
        "mov %esp, st_out+16\nmov %ebp, st_out+20\nmov %esi, st_out+24\nmov %edi, st_out+28\n"
        "mov saved_sp, %esp\n"
        "pushfl\npop %eax\nmov %eax, st_out+64\ncld\n"
        "pop %edi\npop %esi\npop %ebp\npop %ebx\nret\n");
#define NREGS 8
#endif

static sigjmp_buf env;
static volatile int fault_vector;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (sig == SIGFPE) fault_vector = 0;
  else if (sig == SIGILL) fault_vector = 6;
  else if (sig == SIGTRAP) fault_vector = 3;
  else if (sig == SIGSEGV) fault_vector = si->si_code == SI_KERNEL ? 13 : 14;
  else fault_vector = 13;
  siglongjmp(env, 1);
}

/* The data page's initial bytes: xorshift32 from the case's seed (generate.mjs has the same). */
static void fill(uint8_t *p, uint32_t seed) {
  uint32_t x = seed | 1;
  for (int i = 0; i < 4096; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

int main(void) {
  uint8_t *code = mmap((void *)CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  uint8_t *data = mmap((void *)DATA, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  static uint8_t ref[4096];
  static uint8_t altstack[65536];
  if (code == MAP_FAILED || data == MAP_FAILED) return 1;
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, 0);
  back_ptr = (uintptr_t)run_case_back;
  struct in_rec in;
  struct out_rec out;
  while (fread(&in, sizeof in, 1, stdin) == 1) {
    memset(&out, 0, sizeof out);
    memcpy(code, in.code, in.n);
    /* The jump back: ff 25 with a rip-relative (64) or absolute (32) operand. */
    code[in.n] = 0xff;
    code[in.n + 1] = 0x25;
#ifdef __x86_64__
    memset(code + in.n + 2, 0, 4); /* jmp *0(%rip): the address follows the jump */
    memcpy(code + in.n + 6, &back_ptr, 8);
#else
    uint32_t abs = (uint32_t)(uintptr_t)&back_ptr;
    memcpy(code + in.n + 2, &abs, 4);
#endif
    fill(data, in.seed);
    memcpy(ref, data, 4096);
    for (int i = 0; i < NREGS; i++) st_in[i] = (uintptr_t)in.regs[i];
    st_in[16] = (uintptr_t)in.flags;
    fault_vector = -1;
    if (sigsetjmp(env, 1) == 0) run_case();
    __asm__ volatile("cld");
    out.vector = (uint32_t)fault_vector;
    for (int i = 0; i < NREGS; i++) out.regs[i] = st_out[i];
    out.flags = st_out[16];
    for (int i = 0; i < 4096; i++) {
      if (data[i] == ref[i]) continue;
      if (out.ndiff < MAXDIFF) {
        out.off[out.ndiff] = (uint16_t)i;
        out.val[out.ndiff] = data[i];
      }
      out.ndiff++;
    }
    fwrite(&out, sizeof out, 1, stdout);
  }
  return 0;
}
