/* rom.h - the ROM guest's memory map, ports, POST codes and result slots (assembly and C). */
#ifndef ROM_H
#define ROM_H

#define ROM_BASE        0xF0000         /* the 64 KiB image's low alias: link address of its first byte */
#define ROM_SIZE        0x10000
#define ROM_HIGH        0xFFFF0000      /* the same image just below 4 GiB */

#define RM_STACK        0x7C00          /* real mode: SS=0, SP */
#define RM_FAILURES     0x0600          /* byte: checks that failed in real mode */
#define RM_SCRATCH      0x0700          /* a RAM word the real-mode part writes and reads back */
#define IDT_BASE        0x1000          /* 256 gates, built by rom_main */
#define PM_STACK        0x90000         /* protected mode: flat SS, ESP */
#define STACK16_BASE    0x40000         /* base of the 16-bit stack segment (limit 0xFFFF, B=0) */
#define RAM_PROBE       0x100000        /* the first byte above 1 MiB */

#define SEL_CODE32      0x08
#define SEL_DATA32      0x10
#define SEL_STACK16     0x18

#define COM1            0x3F8
#define POST_PORT       0x80
#define DEBUG_EXIT      0xF4            /* isa-debug-exit: outl(v) ends the machine with status v */

#define POST_REAL_MODE      0x01        /* running at F000:xxxx after the reset vector's far jump */
#define POST_COM1_READY     0x02
#define POST_ROM_CHECKED    0x03        /* real-mode ROM and RAM checks done */
#define POST_PROTECTED      0x10        /* in 32-bit protected mode */
#define POST_C_MAIN         0x20
#define POST_MAP_CHECKED    0x30        /* the two ROM windows compared */
#define POST_STACK_CHECKED  0x40        /* the 16-bit stack checks done */
#define POST_SHADOW_CHECKED 0x50        /* the MOV SS / POP SS trap shadow checks done */
#define POST_DONE           0x7F        /* about to write the exit status */

/* Slots of st[], the results stack.S leaves for rom_main (dwords). */
#define R_POPSS16_ESP   0
#define R_POPSS16_SS    1
#define R_POPSS32_ESP   2
#define R_POPSS32_SS    3
#define R_LSS_ESP       4
#define R_ENTER_ESP     5
#define R_ENTER_EBP     6
#define R_ENTER_FP      7
#define R_ENTER_COPY    8
#define R_ENTER_OLDBP   9
#define R_LEAVE_ESP     10
#define R_LEAVE_EBP     11
#define R_PUSHA_ESP     12
#define R_PUSHA_PUSHED  13
#define R_POPA_ESP      14
#define R_IRET_ESP      15
#define R_IRET_FLAGS    16
#define R_INT_ESP_IN    17
#define R_INT_ESP       18
#define R_INT_CS        19
#define R_LCALL_ESP_IN  20
#define R_LCALL_ESP     21
#define R_DB_MOVSS      22
#define R_DB_POPSS      23
#define R_DB_MOVDS      24
#define ST_COUNT        25

#endif
