package io.mucheckpoint.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Looks up a symbol's address in a 32-bit ELF file (for tests that set breakpoints on guest functions). */
final class ElfSymbols {
    private ElfSymbols() {}

    static int address(Path elf, String name) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(elf)).order(ByteOrder.LITTLE_ENDIAN);
        int shoff = b.getInt(0x20);
        int shentsize = b.getShort(0x2E) & 0xFFFF;
        int shnum = b.getShort(0x30) & 0xFFFF;
        for (int i = 0; i < shnum; i++) {
            int sh = shoff + i * shentsize;
            if (b.getInt(sh + 4) != 2) continue; // SHT_SYMTAB
            int off = b.getInt(sh + 0x10), size = b.getInt(sh + 0x14), link = b.getInt(sh + 0x18), entsize = b.getInt(sh + 0x24);
            int strOff = b.getInt(shoff + link * shentsize + 0x10);
            for (int s = off; s + entsize <= off + size; s += entsize) {
                int n = strOff + b.getInt(s);
                int e = n;
                while (b.get(e) != 0) e++;
                if (new String(b.array(), n, e - n, StandardCharsets.US_ASCII).equals(name)) return b.getInt(s + 4);
            }
        }
        throw new IllegalArgumentException(name + " is not in " + elf);
    }
}
