package io.mucheckpoint.vmm.state;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * Turns component state records into bytes and back, by their record components.
 *
 * <p>One codec for every component means equality, hashing and checkpoint files all agree on what a
 * state is. Supported component types: the primitives, {@code String}, enums, primitive arrays,
 * nested records and {@code List}s of any supported type. The encoding is canonical: equal values
 * give equal bytes.
 *
 * <p>Encoding runs at every checkpoint boundary, so each record class is analysed once into a tree
 * of small codecs with method handles for the accessors; no reflection happens per value.
 */
public final class StateCodec {
    /** Upper bound on any array or list length read back, so a corrupt input cannot exhaust memory. */
    private static final int MAX_LENGTH = 1 << 28;
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final Map<Type, Codec> CODECS = new ConcurrentHashMap<>();

    private StateCodec() {}

    public static byte[] encode(Record state) {
        Out out = new Out();
        codec(state.getClass()).write(out, state);
        return Arrays.copyOf(out.buf, out.n);
    }

    public static <R extends Record> R decode(Class<R> type, byte[] data) {
        In in = new In(data);
        R value = type.cast(codec(type).read(in));
        if (in.pos != data.length) {
            throw new StateFormatException(type.getSimpleName() + ": " + (data.length - in.pos) + " trailing bytes");
        }
        return value;
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

    // --- the codec tree ----------------------------------------------------------------------------

    private interface Codec {
        void write(Out out, Object value);

        Object read(In in);
    }

    private static Codec codec(Type type) {
        Codec c = CODECS.get(type);
        if (c == null) {
            c = build(type);
            CODECS.put(type, c);
        }
        return c;
    }

    private static Codec build(Type type) {
        Class<?> c = raw(type);
        if (c == int.class || c == Integer.class) return simple((o, v) -> o.putInt((Integer) v), In::getInt);
        if (c == long.class || c == Long.class) return simple((o, v) -> o.putLong((Long) v), In::getLong);
        if (c == boolean.class || c == Boolean.class) return simple((o, v) -> o.put((Boolean) v ? 1 : 0), in -> in.get() != 0);
        if (c == byte.class || c == Byte.class) return simple((o, v) -> o.put((Byte) v), in -> (byte) in.get());
        if (c == short.class || c == Short.class) return simple((o, v) -> o.putInt((Short) v), in -> (short) in.getInt());
        if (c == char.class || c == Character.class) return simple((o, v) -> o.putInt((Character) v), in -> (char) in.getInt());
        if (c == String.class) {
            return simple((o, v) -> o.putBytes(((String) v).getBytes(StandardCharsets.UTF_8)),
                    in -> new String(in.getBytes(), StandardCharsets.UTF_8));
        }
        if (c.isEnum()) {
            Object[] constants = c.getEnumConstants();
            return simple((o, v) -> o.putInt(((Enum<?>) v).ordinal()), in -> {
                int i = in.getInt();
                if (i < 0 || i >= constants.length) throw new StateFormatException(c.getSimpleName() + ": bad enum ordinal " + i);
                return constants[i];
            });
        }
        if (c == byte[].class) return simple((o, v) -> o.putBytes((byte[]) v), In::getBytes);
        if (c == int[].class) {
            return simple((o, v) -> {
                int[] a = (int[]) v;
                o.putInt(a.length);
                for (int x : a) o.putInt(x);
            }, in -> {
                int[] a = new int[in.length(4)];
                for (int i = 0; i < a.length; i++) a[i] = in.getInt();
                return a;
            });
        }
        if (c == long[].class) {
            return simple((o, v) -> {
                long[] a = (long[]) v;
                o.putInt(a.length);
                for (long x : a) o.putLong(x);
            }, in -> {
                long[] a = new long[in.length(8)];
                for (int i = 0; i < a.length; i++) a[i] = in.getLong();
                return a;
            });
        }
        if (c == boolean[].class) {
            return simple((o, v) -> {
                boolean[] a = (boolean[]) v;
                o.putInt(a.length);
                for (boolean x : a) o.put(x ? 1 : 0);
            }, in -> {
                boolean[] a = new boolean[in.length(1)];
                for (int i = 0; i < a.length; i++) a[i] = in.get() != 0;
                return a;
            });
        }
        if (c == short[].class || c == char[].class) {
            boolean isShort = c == short[].class;
            return simple((o, v) -> {
                int n = java.lang.reflect.Array.getLength(v);
                o.putInt(n);
                for (int i = 0; i < n; i++) o.putInt(isShort ? ((short[]) v)[i] : ((char[]) v)[i]);
            }, in -> {
                int n = in.length(4);
                if (isShort) {
                    short[] a = new short[n];
                    for (int i = 0; i < n; i++) a[i] = (short) in.getInt();
                    return a;
                }
                char[] a = new char[n];
                for (int i = 0; i < n; i++) a[i] = (char) in.getInt();
                return a;
            });
        }
        if (c.isRecord()) return new RecordCodec(c);
        if (c == List.class) {
            Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
            return new Codec() {
                @Override
                public void write(Out out, Object value) {
                    List<?> list = (List<?>) value;
                    out.putInt(list.size());
                    Codec e = codec(element);
                    for (Object o : list) e.write(out, o);
                }

                @Override
                public Object read(In in) {
                    int n = in.length(0);
                    Codec e = codec(element);
                    List<Object> list = new ArrayList<>(Math.min(n, 1024));
                    for (int i = 0; i < n; i++) list.add(e.read(in));
                    return List.copyOf(list);
                }
            };
        }
        throw new IllegalArgumentException("unsupported state component type " + type);
    }

    private interface Writer {
        void write(Out out, Object value);
    }

    private interface Reader {
        Object read(In in);
    }

    private static Codec simple(Writer w, Reader r) {
        return new Codec() {
            @Override
            public void write(Out out, Object value) {
                w.write(out, value);
            }

            @Override
            public Object read(In in) {
                return r.read(in);
            }
        };
    }

    /** A record: its components in declaration order. */
    private static final class RecordCodec implements Codec {
        private final Class<?> type;
        private final java.util.function.Function<Object, Object>[] getters;
        private final Type[] types;
        private final MethodHandle constructor;
        private Codec[] parts;

        RecordCodec(Class<?> type) {
            this.type = type;
            RecordComponent[] rcs = type.getRecordComponents();
            @SuppressWarnings("unchecked")
            java.util.function.Function<Object, Object>[] g = new java.util.function.Function[rcs.length];
            getters = g;
            types = new Type[rcs.length];
            Class<?>[] params = new Class<?>[rcs.length];
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            try {
                for (int i = 0; i < rcs.length; i++) {
                    getters[i] = getter(type, rcs[i].getAccessor());
                    types[i] = rcs[i].getGenericType();
                    params[i] = rcs[i].getType();
                }
                var ctor = type.getDeclaredConstructor(params);
                ctor.setAccessible(true);
                constructor = lookup.unreflectConstructor(ctor).asSpreader(Object[].class, rcs.length)
                        .asType(MethodType.methodType(Object.class, Object[].class));
            } catch (ReflectiveOperationException e) {
                throw new IllegalArgumentException("cannot encode state record " + type.getName(), e);
            }
        }

        /**
         * The accessor as a Function made by LambdaMetafactory: a plain interface call into a class
         * that invokes the accessor. A checkpoint boundary encodes the machine's state (about 300
         * components) only 20 to 100 times a second, so for most of a run this code is interpreted
         * or C1-compiled, where a MethodHandle's invokeExact and a VarHandle's set cost a
         * microsecond or more each. Measured (`vmm run compress` and `mcf`, 3 alternating runs each,
         * idle 2 cores): the state's share of a boundary, median 95-134 us against 119-158 us with
         * MethodHandles and VarHandles, longest 0.7-1.6 ms against 1.8-4.5 ms; a boundary's fixed
         * cost 184-256 us against 240-374 us on average; interpreted alone (-Xint) 165-170 us
         * against 520-930 us per machine state.
         */
        @SuppressWarnings("unchecked")
        private static java.util.function.Function<Object, Object> getter(Class<?> type, java.lang.reflect.Method accessor)
                throws ReflectiveOperationException {
            MethodHandles.Lookup in = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
            MethodHandle target = in.unreflect(accessor);
            try {
                // Instantiated as (record) -> boxed component: wrap() boxes a primitive return type.
                return (java.util.function.Function<Object, Object>) java.lang.invoke.LambdaMetafactory.metafactory(in, "apply",
                        MethodType.methodType(java.util.function.Function.class), MethodType.methodType(Object.class, Object.class),
                        target, target.type().wrap()).getTarget().invokeExact();
            } catch (ReflectiveOperationException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private Codec[] parts() {
            if (parts == null) {
                Codec[] p = new Codec[types.length];
                for (int i = 0; i < p.length; i++) p[i] = codec(types[i]);
                parts = p;
            }
            return parts;
        }

        @Override
        public void write(Out out, Object value) {
            if (value == null) throw new IllegalArgumentException("null record in state " + type.getSimpleName());
            Codec[] p = parts();
            for (int i = 0; i < p.length; i++) p[i].write(out, getters[i].apply(value));
        }

        @Override
        public Object read(In in) {
            Codec[] p = parts();
            Object[] args = new Object[p.length];
            for (int i = 0; i < p.length; i++) args[i] = p[i].read(in);
            try {
                return constructor.invokeExact(args);
            } catch (IllegalArgumentException e) {
                throw new StateFormatException(type.getSimpleName() + ": " + e.getMessage());
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("cannot build " + type.getSimpleName(), t);
            }
        }
    }

    // --- bytes ------------------------------------------------------------------------------------

    private static final class Out {
        byte[] buf = new byte[512];
        int n;

        private void room(int k) {
            if (n + k > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + k));
        }

        void put(int b) {
            room(1);
            buf[n++] = (byte) b;
        }

        void putInt(int v) {
            room(4);
            byte[] b = buf;
            b[n] = (byte) v;
            b[n + 1] = (byte) (v >>> 8);
            b[n + 2] = (byte) (v >>> 16);
            b[n + 3] = (byte) (v >>> 24);
            n += 4;
        }

        void putLong(long v) {
            room(8);
            byte[] b = buf;
            for (int i = 0; i < 8; i++) b[n + i] = (byte) (v >>> (8 * i));
            n += 8;
        }

        void putBytes(byte[] b) {
            putInt(b.length);
            room(b.length);
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
    }

    private static final class In {
        final byte[] buf;
        int pos;

        In(byte[] buf) {
            this.buf = buf;
        }

        private void need(int k, String what) {
            if (k < 0 || pos + k > buf.length) throw new StateFormatException("truncated state (reading " + what + ")");
        }

        int get() {
            need(1, "a byte");
            return buf[pos++] & 0xFF;
        }

        int getInt() {
            need(4, "an int");
            int v = (int) INT.get(buf, pos);
            pos += 4;
            return v;
        }

        long getLong() {
            need(8, "a long");
            long v = (long) LONG.get(buf, pos);
            pos += 8;
            return v;
        }

        /** A length prefix, checked against what is left and a global cap. */
        int length(int elementBytes) {
            int n = getInt();
            if (n < 0 || n > MAX_LENGTH || (long) n * elementBytes > buf.length - pos) {
                throw new StateFormatException("implausible length " + n);
            }
            return n;
        }

        byte[] getBytes() {
            int n = length(1);
            byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
            pos += n;
            return b;
        }
    }

    private static Class<?> raw(Type type) {
        if (type instanceof Class<?> c) return c;
        if (type instanceof ParameterizedType p) return (Class<?>) p.getRawType();
        throw new IllegalArgumentException("unsupported state component type " + type);
    }
}
