package io.mucheckpoint.cpu;

/** A test program assembled by src/test/asm/gen.sh: its bytes and the address they were linked at. */
record Prog(int at, int[] bytes) {
    int end() {
        return at + bytes.length;
    }
}
