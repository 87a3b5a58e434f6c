package io.sealstream.cli.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The requests the embedded Kafka broker (in this JVM) handled, by request type, read from its
 * own request metrics: how many, and the time its request handlers spent on them. At a low rate
 * the pipeline's cost per request is the broker's fixed work (transactions, fetches, heartbeats),
 * and these counts say which.
 */
final class BrokerRequests {
    /** One request type's count and handler time (broker's {@code LocalTimeMs}, summed). */
    record Type(String request, long count, double localMillis) {
    }

    private final Map<String, Type> byType;

    private BrokerRequests(Map<String, Type> byType) {
        this.byType = byType;
    }

    /** The broker's totals so far. */
    static BrokerRequests read() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Map<String, Type> types = new HashMap<>();
        try {
            // one RequestsPerSec meter per request type and version; LocalTimeMs per type
            for (ObjectName name : server.queryNames(new ObjectName(
                    "kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
                String request = name.getKeyProperty("request");
                long count = ((Number) server.getAttribute(name, "Count")).longValue();
                types.merge(request, new Type(request, count, 0), (a, b) -> new Type(request, a.count + b.count, 0));
            }
            for (Map.Entry<String, Type> e : new ArrayList<>(types.entrySet())) {
                ObjectName local = new ObjectName("kafka.network:type=RequestMetrics,name=LocalTimeMs,request=" + e.getKey());
                if (server.isRegistered(local)) {
                    double mean = ((Number) server.getAttribute(local, "Mean")).doubleValue();
                    long n = ((Number) server.getAttribute(local, "Count")).longValue();
                    e.setValue(new Type(e.getKey(), e.getValue().count(), mean * n));
                }
            }
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("cannot read the broker's request metrics: " + e.getMessage(), e);
        }
        return new BrokerRequests(types);
    }

    /** The transactions the broker committed or aborted (EndTxn requests) between {@code earlier} and this reading. */
    long transactionsSince(BrokerRequests earlier) {
        return since(earlier).stream().filter(t -> t.request().equals("EndTxn")).mapToLong(Type::count).sum();
    }

    /** What the broker handled between {@code earlier} and this reading, busiest first. */
    List<Type> since(BrokerRequests earlier) {
        List<Type> out = new ArrayList<>();
        for (Type now : byType.values()) {
            Type then = earlier.byType.getOrDefault(now.request(), new Type(now.request(), 0, 0));
            long count = now.count() - then.count();
            if (count > 0) {
                out.add(new Type(now.request(), count, now.localMillis() - then.localMillis()));
            }
        }
        out.sort(Comparator.comparingLong(Type::count).reversed());
        return out;
    }
}
