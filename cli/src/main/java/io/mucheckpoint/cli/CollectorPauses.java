package io.mucheckpoint.cli;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The JVM's own stops during a run, for {@code --stats}: every garbage collection stops the guest
 * thread wherever it is, inside a checkpoint boundary or not, so the boundary pauses alone do not
 * say how long the guest was held. Counted from the collectors' notifications (one per
 * collection, with its duration), from {@link #start} on.
 */
final class CollectorPauses {
    private final List<Runnable> detach = new ArrayList<>();
    private int count;
    private long totalMillis;
    private long maxMillis;
    private String longest = "";

    private CollectorPauses() {}

    static CollectorPauses start() {
        CollectorPauses p = new CollectorPauses();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!(gc instanceof NotificationEmitter emitter)) continue;
            NotificationListener l = p::heard;
            emitter.addNotificationListener(l, null, null);
            p.detach.add(() -> {
                try {
                    emitter.removeNotificationListener(l);
                } catch (javax.management.ListenerNotFoundException e) {
                    // already gone
                }
            });
        }
        return p;
    }

    private synchronized void heard(Notification n, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) return;
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long ms = info.getGcInfo().getDuration();
        count++;
        totalMillis += ms;
        if (ms >= maxMillis) {
            maxMillis = ms;
            longest = info.getGcAction().replace("end of ", "") + ", " + info.getGcCause();
        }
    }

    /** Collections heard so far. */
    synchronized int count() {
        return count;
    }

    /** The --stats line; stops listening. */
    synchronized String format() {
        detach.forEach(Runnable::run);
        if (count == 0) return "  collector:    the JVM's garbage collector did not run during the run\n";
        return String.format(Locale.ROOT, "  collector:    the JVM's garbage collector stopped the guest %d times, %d ms in all, %d ms at the longest (%s)%n",
                count, totalMillis, maxMillis, longest);
    }
}
