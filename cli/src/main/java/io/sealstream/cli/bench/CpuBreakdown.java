package io.sealstream.cli.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the CPU of one measured window went, by component of the pipeline, for a stack that runs
 * in this JVM (plus the registry's child process). Totals come from per-thread CPU time
 * ({@link ThreadMXBean}); a thread that does several jobs (a worker's stream thread opens,
 * seals, writes its stores and commits) has its time split by the share of JFR execution samples
 * whose stack shows each job. What no Java thread accounts for (GC, JIT) is reported as such.
 */
final class CpuBreakdown {
    /** One component's CPU in the window. */
    record Share(String component, double cpuSeconds, long allocatedBytes) {
    }

    /** Thread name rules, first match wins: a thread's whole CPU goes to the component, or is split by samples. */
    private enum ThreadKind {
        CLIENT_CALLER("client: seal and produce (caller threads)"),
        CLIENT_PRODUCER_IO("client: producer I/O"),
        CLIENT_RESPONSES("client: consume and open"),
        WORKER_STREAM("worker: stream thread"),
        WORKER_PRODUCER_IO("worker: producer I/O"),
        WORKER_INFERENCE("worker: inference thread (engine)"),
        WORKER_OTHER("worker: key refresh, admin, health"),
        KEY_BROKER("key broker"),
        KAFKA("Kafka broker (and other JVM threads)");

        final String label;

        ThreadKind(String label) {
            this.label = label;
        }

        static ThreadKind of(String name, String callerPrefix) {
            if (name.startsWith(callerPrefix)) {
                return CLIENT_CALLER;
            }
            if (name.startsWith("kafka-producer-network-thread | sealstream-client-")) {
                return CLIENT_PRODUCER_IO;
            }
            if (name.startsWith("sealstream-responses-") || name.startsWith("sealstream-client-")) {
                return CLIENT_RESPONSES;
            }
            if (name.contains("StreamThread") && name.contains("producer")) {
                return WORKER_PRODUCER_IO;
            }
            if (name.contains("StreamThread")) {
                return WORKER_STREAM;
            }
            if (name.startsWith("sealstream-inference")) {
                return WORKER_INFERENCE;
            }
            if (name.startsWith("sealstream-key-refresh") || name.startsWith("kafka-admin-client-thread")
                    || name.startsWith("HTTP-Dispatcher")) {
                return WORKER_OTHER;
            }
            if (name.startsWith("key-broker")) {
                return KEY_BROKER;
            }
            return KAFKA;
        }
    }

    /** Jobs of a stream thread by a frame its stack holds; the first rule any frame matches wins. */
    private static final List<String[]> STREAM_JOBS = List.of(
            new String[] {"worker: open requests", "io.sealstream.envelope.RequestOpener.open"},
            new String[] {"worker: seal answers", "io.sealstream.envelope.OpenedRequest.seal",
                    "io.sealstream.envelope.ResponseSealer.seal"},
            new String[] {"worker: engine (on the stream thread)", "io.sealstream.worker.EngineRouter.handle"},
            new String[] {"worker: Avro envelope serde", "io.sealstream.schemas.serde."},
            new String[] {"worker: state stores and changelog", "org.rocksdb.", "org.apache.kafka.streams.state."},
            new String[] {"worker: produce answers", "org.apache.kafka.streams.processor.internals.RecordCollectorImpl.send"},
            new String[] {"worker: commit transactions", "org.apache.kafka.streams.processor.internals.TaskManager.commit",
                    "org.apache.kafka.streams.processor.internals.StreamsProducer.commit"},
            new String[] {"worker: consume", "org.apache.kafka.clients.consumer."},
            new String[] {"worker: batcher bookkeeping", "io.sealstream.streams."},
            new String[] {"worker: Kafka Streams runtime", ""});

    private static final List<String[]> CALLER_JOBS = List.of(
            new String[] {"client: seal", "io.sealstream.envelope."},
            new String[] {"client: Avro envelope serde", "io.sealstream.schemas.serde."},
            new String[] {"client: produce (enqueue)", "org.apache.kafka.clients.producer."},
            new String[] {"client: request bookkeeping", ""});

    private static final List<String[]> RESPONSE_JOBS = List.of(
            new String[] {"client: open answers", "io.sealstream.envelope."},
            new String[] {"client: Avro envelope serde", "io.sealstream.schemas.serde."},
            new String[] {"client: consume", "org.apache.kafka.clients.consumer."},
            new String[] {"client: complete futures", ""});

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final String callerPrefix;
    private final long registryPid;
    private Map<Long, Long> startCpu;
    private Map<Long, Long> startAllocated;
    private long startProcessCpu;
    private Map<String, Long> startNative;
    private long startRegistryCpu;
    private long startNanos;
    private Recording recording;
    /** JFR's sampling period, or zero for totals per thread only (no split, no sampling overhead). */
    private final Duration samplePeriod;

    /**
     * @param callerPrefix name prefix of the threads that call the SDK
     * @param registryPid the registry's child process, or -1
     */
    CpuBreakdown(String callerPrefix, long registryPid, Duration samplePeriod) {
        this.callerPrefix = callerPrefix;
        this.registryPid = registryPid;
        this.samplePeriod = samplePeriod;
    }

    /** Starts the window. */
    void start() {
        recording = new Recording();
        if (!samplePeriod.isZero()) {
            recording.enable("jdk.ExecutionSample").withPeriod(samplePeriod);
            recording.enable("jdk.NativeMethodSample").withPeriod(samplePeriod.multipliedBy(5));
        }
        recording.start();
        startCpu = threadCpu();
        startAllocated = threadAllocated();
        startProcessCpu = os.getProcessCpuTime();
        startNative = nativeThreadCpu();
        startRegistryCpu = childCpuNanos(registryPid).orElse(0);
        startNanos = System.nanoTime();
    }

    /**
     * Ends the window: CPU seconds per component, largest first, and the window's wall time.
     * {@code finished} are threads of {@code callerPrefix} that ended inside the window (their
     * CPU and allocation as they measured it before ending).
     */
    Result stop(List<Load.ThreadUse> finished) throws IOException {
        Map<Long, Long> endCpu = threadCpu();
        Map<Long, Long> endAllocated = threadAllocated();
        long processCpu = os.getProcessCpuTime() - startProcessCpu;
        Map<String, Long> endNative = nativeThreadCpu();
        long registryCpu = childCpuNanos(registryPid).orElse(startRegistryCpu) - startRegistryCpu;
        double wall = (System.nanoTime() - startNanos) / 1e9;
        recording.stop();
        Path jfr = Files.createTempFile("sealstream-bench-", ".jfr");
        try {
            recording.dump(jfr);
            recording.close();
            Map<ThreadKind, Long> byKind = new HashMap<>();
            Map<ThreadKind, Long> allocatedByKind = new HashMap<>();
            Map<String, Long> otherThreads = new HashMap<>();
            long javaThreads = 0;
            for (Map.Entry<Long, Long> e : endCpu.entrySet()) {
                long delta = e.getValue() - startCpu.getOrDefault(e.getKey(), 0L);
                ThreadInfo info = threads.getThreadInfo(e.getKey());
                if (info == null || delta <= 0) {
                    continue;
                }
                ThreadKind kind = ThreadKind.of(info.getThreadName(), callerPrefix);
                byKind.merge(kind, delta, Long::sum);
                allocatedByKind.merge(kind, endAllocated.getOrDefault(e.getKey(), 0L)
                        - startAllocated.getOrDefault(e.getKey(), 0L), Long::sum);
                if (kind == ThreadKind.KAFKA) {
                    otherThreads.merge(info.getThreadName().replaceAll("[0-9]+", "N"), delta, Long::sum);
                }
                javaThreads += delta;
            }
            for (Load.ThreadUse t : finished) {
                byKind.merge(ThreadKind.CLIENT_CALLER, t.cpuNanos(), Long::sum);
                allocatedByKind.merge(ThreadKind.CLIENT_CALLER, t.allocatedBytes(), Long::sum);
                javaThreads += t.cpuNanos();
            }
            Map<String, Map<String, Integer>> samples = jobSamples(jfr);
            Map<String, Double> shares = new LinkedHashMap<>();
            Map<String, Long> allocations = new HashMap<>();
            for (Map.Entry<ThreadKind, Long> e : byKind.entrySet()) {
                double seconds = e.getValue() / 1e9;
                Map<String, Integer> jobs = samples.get(e.getKey().name());
                long allocated = allocatedByKind.getOrDefault(e.getKey(), 0L);
                if (jobs == null || jobs.isEmpty()) {
                    shares.merge(e.getKey().label, seconds, Double::sum);
                    allocations.merge(e.getKey().label, allocated, Long::sum);
                    continue;
                }
                int total = jobs.values().stream().mapToInt(Integer::intValue).sum();
                jobs.forEach((job, n) -> {
                    shares.merge(job, seconds * n / total, Double::sum);
                    allocations.merge(job, allocated * n / total, Long::sum);
                });
            }
            long nativeThreads = 0;
            for (Map.Entry<String, Long> e : endNative.entrySet()) {
                long delta = e.getValue() - startNative.getOrDefault(e.getKey(), 0L);
                shares.merge(e.getKey(), delta / 1e9, Double::sum);
                nativeThreads += delta;
            }
            shares.merge("JVM: not attributed (threads that ended, clock granularity)",
                    Math.max(0, (processCpu - javaThreads - nativeThreads) / 1e9), Double::sum);
            if (registryPid > 0) {
                shares.merge("schema registry (child process)", registryCpu / 1e9, Double::sum);
            }
            List<Share> list = new ArrayList<>();
            shares.forEach((k, v) -> list.add(new Share(k, v, allocations.getOrDefault(k, 0L))));
            list.sort((a, b) -> Double.compare(b.cpuSeconds(), a.cpuSeconds()));
            List<Share> others = new ArrayList<>();
            otherThreads.forEach((k, v) -> others.add(new Share(k, v / 1e9, 0)));
            others.sort((a, b) -> Double.compare(b.cpuSeconds(), a.cpuSeconds()));
            return new Result(list, wall, others.subList(0, Math.min(8, others.size())));
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    /** The window's shares and wall time. */
    record Result(List<Share> shares, double wallSeconds, List<Share> busiestOtherThreads) {
        double totalCpuSeconds() {
            return shares.stream().mapToDouble(Share::cpuSeconds).sum();
        }
    }

    /** Time the JIT compilers spent since start, in ms (about their CPU: each compiles on its own thread). */
    static long compileMillis() {
        var jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /**
     * CPU of this process's threads that are not Java threads, by what they are (from the thread
     * names Linux keeps in /proc/self/task): JIT compilers, GC, RocksDB's background threads.
     */
    private static Map<String, Long> nativeThreadCpu() {
        Map<String, Long> cpu = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue; // ended meanwhile
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String kind = name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") ? "JVM: JIT compiler threads"
                        : name.startsWith("GC Thread") || name.startsWith("G1 ") || name.equals("VM Thread")
                        ? "JVM: garbage collector" : name.startsWith("rocksdb:") ? "worker: RocksDB background (flush, compaction)"
                        : null;
                if (kind != null) {
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    cpu.merge(kind, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L, Long::sum);
                }
            }
        } catch (IOException e) {
            return cpu; // not Linux: totals per Java thread only
        }
        return cpu;
    }

    private Map<Long, Long> threadCpu() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t >= 0) {
                cpu.put(id, t);
            }
        }
        return cpu;
    }

    private Map<Long, Long> threadAllocated() {
        Map<Long, Long> bytes = new HashMap<>();
        if (threads instanceof com.sun.management.ThreadMXBean sun) {
            for (long id : threads.getAllThreadIds()) {
                long b = sun.getThreadAllocatedBytes(id);
                if (b >= 0) {
                    bytes.put(id, b);
                }
            }
        }
        return bytes;
    }

    /** Samples of the multi-job threads, per thread kind and job. */
    private Map<String, Map<String, Integer>> jobSamples(Path jfr) throws IOException {
        Map<String, Map<String, Integer>> out = new HashMap<>();
        for (RecordedEvent event : RecordingFile.readAllEvents(jfr)) {
            boolean nativeSample = event.getEventType().getName().equals("jdk.NativeMethodSample");
            if (event.getStackTrace() == null || event.getThread("sampledThread") == null) {
                continue;
            }
            List<RecordedFrame> frames = event.getStackTrace().getFrames();
            if (frames.isEmpty()) {
                continue;
            }
            if (nativeSample && !frames.get(0).getMethod().getType().getName().startsWith("org.rocksdb.")) {
                continue; // a thread waiting in native code (poll, park, sleep) uses no CPU
            }
            String name = event.getThread("sampledThread").getJavaName();
            if (name == null) {
                continue;
            }
            ThreadKind kind = ThreadKind.of(name, callerPrefix);
            List<String[]> rules = switch (kind) {
                case WORKER_STREAM -> STREAM_JOBS;
                case CLIENT_CALLER -> CALLER_JOBS;
                case CLIENT_RESPONSES -> RESPONSE_JOBS;
                default -> null;
            };
            if (rules == null) {
                continue;
            }
            out.computeIfAbsent(kind.name(), k -> new HashMap<>()).merge(jobOf(frames, rules), 1, Integer::sum);
        }
        return out;
    }

    private static String jobOf(List<RecordedFrame> frames, List<String[]> rules) {
        List<String> names = new ArrayList<>(frames.size());
        for (RecordedFrame f : frames) {
            names.add(f.getMethod().getType().getName() + "." + f.getMethod().getName());
        }
        for (String[] rule : rules) {
            for (int i = 1; i < rule.length; i++) {
                for (String frame : names) {
                    if (frame.startsWith(rule[i])) {
                        return rule[0];
                    }
                }
            }
        }
        return rules.get(rules.size() - 1)[0];
    }

    /** User plus system CPU of a child process from /proc, in nanoseconds. */
    private static OptionalLong childCpuNanos(long pid) {
        if (pid <= 0) {
            return OptionalLong.empty();
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            return OptionalLong.of(ticks * 10_000_000L); // USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
