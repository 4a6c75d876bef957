package io.mucheckpoint.vmm.dev;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The MC146818's time registers as bytes: encoding a date in BCD or binary, 12- or 24-hour form,
 * and decoding whatever a guest wrote back into a date. Decoding is lenient (out-of-range fields
 * carry into the next larger unit) because a guest may write any byte and a device must not fail.
 */
final class RtcCalendar {
    static final int SECONDS = 0x00;
    static final int MINUTES = 0x02;
    static final int HOURS = 0x04;
    static final int DAY_OF_WEEK = 0x06;
    static final int DAY_OF_MONTH = 0x07;
    static final int MONTH = 0x08;
    static final int YEAR = 0x09;
    static final int CENTURY = 0x32;
    /** The CMOS indices that hold the running clock. */
    static final int[] TIME_REGISTERS = {SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY};

    private RtcCalendar() {}

    static boolean isTimeRegister(int index) {
        for (int r : TIME_REGISTERS) if (r == index) return true;
        return false;
    }

    /** The byte register {@code index} shows for the instant {@code epochSecond} (UTC). */
    static int encode(int index, long epochSecond, boolean binary, boolean hours24) {
        LocalDateTime d = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        return switch (index) {
            case SECONDS -> number(d.getSecond(), binary);
            case MINUTES -> number(d.getMinute(), binary);
            case HOURS -> hours(d.getHour(), binary, hours24);
            case DAY_OF_WEEK -> number(d.getDayOfWeek().getValue() % 7 + 1, binary); // Sunday = 1
            case DAY_OF_MONTH -> number(d.getDayOfMonth(), binary);
            case MONTH -> number(d.getMonthValue(), binary);
            case YEAR -> number(Math.floorMod(d.getYear(), 100), binary);
            case CENTURY -> number(Math.floorDiv(d.getYear(), 100), binary);
            default -> throw new IllegalArgumentException("not a time register: " + index);
        };
    }

    /** The hour register's form of {@code hour} (0-23). */
    static int hours(int hour, boolean binary, boolean hours24) {
        if (hours24) return number(hour, binary);
        int h12 = hour % 12 == 0 ? 12 : hour % 12;
        return number(h12, binary) | (hour >= 12 ? 0x80 : 0);
    }

    static int number(int v, boolean binary) {
        if (binary) return v & 0xFF;
        v = Math.floorMod(v, 100);
        return (v / 10) << 4 | v % 10;
    }

    static int decodeNumber(int b, boolean binary) {
        b &= 0xFF;
        return binary ? b : (b >> 4) * 10 + (b & 15);
    }

    static int decodeHour(int b, boolean binary, boolean hours24) {
        if (hours24) return decodeNumber(b, binary);
        int h = decodeNumber(b & 0x7F, binary) % 12;
        return (b & 0x80) != 0 ? h + 12 : h;
    }

    /**
     * The instant that the time registers in {@code regs} (indexed by CMOS index) stand for. The
     * day of the week is not read: it follows from the date.
     */
    static long decode(byte[] regs, boolean binary, boolean hours24) {
        int year = decodeNumber(regs[CENTURY], binary) * 100 + decodeNumber(regs[YEAR], binary);
        LocalDateTime d = LocalDateTime.of(year, 1, 1, 0, 0)
                .plusMonths(decodeNumber(regs[MONTH], binary) - 1L)
                .plusDays(decodeNumber(regs[DAY_OF_MONTH], binary) - 1L)
                .plusHours(decodeHour(regs[HOURS], binary, hours24))
                .plusMinutes(decodeNumber(regs[MINUTES], binary))
                .plusSeconds(decodeNumber(regs[SECONDS], binary));
        return d.toEpochSecond(ZoneOffset.UTC);
    }
}
