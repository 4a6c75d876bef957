package io.mucheckpoint.vmm.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Turns component state records into bytes and back, by their record components.
 *
 * <p>One codec for every component means equality, hashing and checkpoint files all agree on what a
 * state is. Supported component types: the primitives, {@code String}, enums, primitive arrays,
 * nested records and {@code List}s of any supported type. The encoding is canonical: equal values
 * give equal bytes.
 */
public final class StateCodec {
    /** Upper bound on any array or list length read back, so a corrupt input cannot exhaust memory. */
    private static final int MAX_LENGTH = 1 << 28;

    private StateCodec() {}

    public static byte[] encode(Record state) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(out, state.getClass(), state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static <R extends Record> R decode(Class<R> type, byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            R value = type.cast(read(in, type));
            if (in.available() != 0) {
                throw new StateFormatException(type.getSimpleName() + ": " + in.available() + " trailing bytes");
            }
            return value;
        } catch (IOException e) {
            throw new StateFormatException(type.getSimpleName() + ": truncated state (" + e.getMessage() + ")");
        }
    }

    /** Equality by content, arrays included (a record's own equals compares arrays by identity). */
    public static boolean equal(Record a, Record b) {
        return a.getClass() == b.getClass() && Arrays.equals(encode(a), encode(b));
    }

    /** A hash of the content that is stable across runs and JVMs. */
    public static int crc32c(Record state) {
        CRC32C crc = new CRC32C();
        crc.update(encode(state));
        return (int) crc.getValue();
    }

    private static void write(DataOutputStream out, Type type, Object value) throws IOException {
        Class<?> c = raw(type);
        if (c == int.class || c == Integer.class) out.writeInt((Integer) value);
        else if (c == long.class || c == Long.class) out.writeLong((Long) value);
        else if (c == boolean.class || c == Boolean.class) out.writeBoolean((Boolean) value);
        else if (c == byte.class || c == Byte.class) out.writeByte((Byte) value);
        else if (c == short.class || c == Short.class) out.writeShort((Short) value);
        else if (c == char.class || c == Character.class) out.writeChar((Character) value);
        else if (c == String.class) writeString(out, (String) value);
        else if (c.isEnum()) out.writeInt(((Enum<?>) value).ordinal());
        else if (c == byte[].class) { byte[] a = (byte[]) value; out.writeInt(a.length); out.write(a); }
        else if (c.isArray() && c.getComponentType().isPrimitive()) {
            int n = Array.getLength(value);
            out.writeInt(n);
            for (int i = 0; i < n; i++) write(out, c.getComponentType(), Array.get(value, i));
        } else if (c.isRecord()) {
            if (value == null) throw new IllegalArgumentException("null record in state " + c.getSimpleName());
            for (RecordComponent rc : c.getRecordComponents()) {
                try {
                    write(out, rc.getGenericType(), rc.getAccessor().invoke(value));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException("cannot read " + c.getSimpleName() + "." + rc.getName(), e);
                }
            }
        } else if (c == List.class) {
            Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
            List<?> list = (List<?>) value;
            out.writeInt(list.size());
            for (Object o : list) write(out, element, o);
        } else {
            throw new IllegalArgumentException("unsupported state component type " + type);
        }
    }

    private static Object read(DataInputStream in, Type type) throws IOException {
        Class<?> c = raw(type);
        if (c == int.class || c == Integer.class) return in.readInt();
        if (c == long.class || c == Long.class) return in.readLong();
        if (c == boolean.class || c == Boolean.class) return in.readBoolean();
        if (c == byte.class || c == Byte.class) return in.readByte();
        if (c == short.class || c == Short.class) return in.readShort();
        if (c == char.class || c == Character.class) return in.readChar();
        if (c == String.class) return readString(in);
        if (c.isEnum()) {
            Object[] constants = c.getEnumConstants();
            int ordinal = in.readInt();
            if (ordinal < 0 || ordinal >= constants.length) {
                throw new StateFormatException(c.getSimpleName() + ": bad enum ordinal " + ordinal);
            }
            return constants[ordinal];
        }
        if (c == byte[].class) {
            byte[] a = new byte[length(in)];
            in.readFully(a);
            return a;
        }
        if (c.isArray() && c.getComponentType().isPrimitive()) {
            int n = length(in);
            Object a = Array.newInstance(c.getComponentType(), n);
            for (int i = 0; i < n; i++) Array.set(a, i, read(in, c.getComponentType()));
            return a;
        }
        if (c.isRecord()) {
            RecordComponent[] rcs = c.getRecordComponents();
            Object[] args = new Object[rcs.length];
            Class<?>[] types = new Class<?>[rcs.length];
            for (int i = 0; i < rcs.length; i++) {
                args[i] = read(in, rcs[i].getGenericType());
                types[i] = rcs[i].getType();
            }
            try {
                Constructor<?> ctor = c.getDeclaredConstructor(types);
                ctor.setAccessible(true);
                return ctor.newInstance(args);
            } catch (InvocationTargetException e) {
                throw new StateFormatException(c.getSimpleName() + ": " + e.getCause().getMessage());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot build " + c.getSimpleName(), e);
            }
        }
        if (c == List.class) {
            Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
            int n = length(in);
            List<Object> list = new ArrayList<>(Math.min(n, 1024));
            for (int i = 0; i < n; i++) list.add(read(in, element));
            return List.copyOf(list);
        }
        throw new IllegalArgumentException("unsupported state component type " + type);
    }

    private static int length(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_LENGTH || n > in.available() + 16) {
            throw new StateFormatException("implausible length " + n);
        }
        return n;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] b = new byte[length(in)];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Class<?> raw(Type type) {
        if (type instanceof Class<?> c) return c;
        if (type instanceof ParameterizedType p) return (Class<?>) p.getRawType();
        throw new IllegalArgumentException("unsupported state component type " + type);
    }
}
