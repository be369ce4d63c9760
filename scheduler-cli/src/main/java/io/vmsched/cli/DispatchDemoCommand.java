package io.vmsched.cli;

import io.vmsched.dispatch.Dispatcher;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.ThreadCpuClock;
import io.vmsched.guest.CpuBurnerGuest;
import io.vmsched.guest.IoWriterGuest;
import io.vmsched.guest.MemoryHolderGuest;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code vmsched dispatch-demo}: one host with a handful of guests on its dispatcher, printing what the
 * dispatcher did each second: proportional share, suspend and resume, the mapped schedule.
 */
@Command(name = "dispatch-demo", mixinStandardHelpOptions = true,
    description = "Run one host's dispatcher over a handful of guests and print what it did.")
final class DispatchDemoCommand implements Runnable
{
    /**
     * The most worker threads: past a few per core, threads that spin for work only take turns with
     * each other, and starting and stopping hundreds of them alone outlasts a short --duration.
     */
    static final int MAX_WORKERS = 64;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--guests", defaultValue = "6", description = "Guests to run, 3-1024 (default: ${DEFAULT-VALUE}).")
    int guests;

    @Option(names = "--workers", defaultValue = "0",
        description = "Dispatcher worker threads, the host's CPUs, 0-" + MAX_WORKERS + " (default: 0, one per processor).")
    int workers;

    @Mixin
    final Mixins.Run run = new Mixins.Run(6);

    @Override
    public void run()
    {
        Flags.within("--guests", guests, 3, 1024);
        final int durationSeconds = run.duration.seconds();
        run.data.checked();
        Flags.within("--workers", workers, 0, MAX_WORKERS);
        final int workerCount = workers == 0 ? Math.min(MAX_WORKERS, Runtime.getRuntime().availableProcessors()) : workers;
        // a new folder each run, as demo's run-<time>: a second run on the same --data neither fails on the
        // first one's schedule file nor maps over it while a ScheduleReader may still be reading it
        final Path runDir = run.data.newRun("dispatch-");

        final PrintWriter out = spec.commandLine().getOut();
        final Random random = new Random(run.seed.value());
        final int capacity = Integer.highestOneBit(Math.max(4, guests) * 2 - 1) * 2;
        final Path scheduleFile = runDir.resolve("schedule.dat");
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final List<DemoGuest> all = new ArrayList<>();

        try (Schedule schedule = Schedule.mapNew(scheduleFile, capacity, Schedule.DEFAULT_QUANTUM_NANOS,
            Schedule.DEFAULT_CLAIM_BATCH))
        {
            for (int i = 0; i < guests; i++)
            {
                final long vmId = 100 + i;
                final DemoGuest g;
                if (i == 0)
                {
                    g = new DemoGuest(vmId, "io-writer 4 KiB/slice", 1,
                        new IoWriterGuest(runDir.resolve("io-guest.bin"), 4 * 1024, 16L * 1024 * 1024));
                }
                else if (i == 1)
                {
                    g = new DemoGuest(vmId, "memory-holder 32 MiB", 1, new MemoryHolderGuest(32 * 1024 * 1024));
                }
                else
                {
                    final double duty = i == 2 ? 0.3 : 1.0;
                    g = new DemoGuest(vmId, "cpu-burner duty " + (int)(duty * 100) + "%", 1 + random.nextInt(4),
                        new CpuBurnerGuest(duty));
                }
                schedule.insert(vmId, g.weight, EntryState.RUNNABLE, g.guest);
                all.add(g);
            }

            out.printf("vmsched demo: one host, %d guests, %d dispatcher workers (%s), quantum %d us per weight unit%n",
                guests, workerCount, ThreadCpuClock.isThreadCpuTime() ? "charged by thread CPU time" : "charged by wall time",
                schedule.quantumNanos() / 1000);
            out.printf("live schedule mapped at %s (%d slots)%n%n", scheduleFile.toAbsolutePath(), capacity);

            final Dispatcher dispatcher = new Dispatcher(schedule, workerCount, Dispatcher::defaultIdleStrategy, errors::add);
            final DemoGuest suspended = all.get(all.size() - 1);
            try
            {
                dispatcher.start();
                final long start = System.nanoTime();
                for (int second = 1; second <= durationSeconds; second++)
                {
                    Clock.sleepUntil(start + TimeUnit.SECONDS.toNanos(second));
                    if (second == Math.max(1, durationSeconds / 3))
                    {
                        final Schedule.Transition t = schedule.suspend(suspended.vmId);
                        out.printf("t=%ds  suspend vm %d: %s%n", second, suspended.vmId, t);
                    }
                    if (second == Math.max(2, 2 * durationSeconds / 3) && schedule.contains(suspended.vmId))
                    {
                        schedule.reclaim();
                        if (schedule.stateOf(suspended.vmId) == EntryState.SUSPENDED)
                        {
                            schedule.resume(suspended.vmId);
                            out.printf("t=%ds  resume vm %d%n", second, suspended.vmId);
                        }
                    }
                    schedule.reclaim();
                    out.printf("t=%ds  slices %,d  (%s)%n", second, dispatcher.slicesDispatched(), line(schedule, all));
                    out.flush();
                }
            }
            finally
            {
                dispatcher.close();
            }
            summary(out, schedule, all, dispatcher);
            for (final DemoGuest g : all)
            {
                if (g.guest instanceof IoWriterGuest)
                {
                    ((IoWriterGuest)g.guest).close();
                }
            }
        }
        for (final Throwable error : errors)
        {
            out.println("error: " + error.getMessage());
        }
        out.flush();
        if (!errors.isEmpty())
        {
            throw new IllegalStateException(errors.size() + " dispatcher errors (listed above)");
        }
    }

    private static String line(final Schedule schedule, final List<DemoGuest> all)
    {
        final StringBuilder sb = new StringBuilder();
        for (final DemoGuest g : all)
        {
            final int slot = schedule.slotOf(g.vmId);
            if (sb.length() > 0)
            {
                sb.append(", ");
            }
            sb.append("vm ").append(g.vmId).append(' ')
                .append(EntryState.name(schedule.stateOfSlot(slot)).toLowerCase()).append(' ')
                .append(TimeUnit.NANOSECONDS.toMillis(schedule.cpuNanos(slot))).append(" ms");
        }
        return sb.toString();
    }

    private static void summary(final PrintWriter out, final Schedule schedule, final List<DemoGuest> all,
        final Dispatcher dispatcher)
    {
        long cpuTotal = 0;
        long weightTotal = 0;
        for (final DemoGuest g : all)
        {
            if (g.guest instanceof CpuBurnerGuest && ((CpuBurnerGuest)g.guest).dutyCycle() == 1.0 &&
                !g.equals(all.get(all.size() - 1)))
            {
                cpuTotal += schedule.cpuNanos(schedule.slotOf(g.vmId));
                weightTotal += g.weight;
            }
        }
        out.printf("%nWhat the dispatcher did: %,d slices, %d guest failures%n", dispatcher.slicesDispatched(),
            dispatcher.guestFailures());
        out.printf("%-6s %-24s %6s %-10s %10s %10s %12s %12s %12s%n",
            "vm", "guest", "weight", "state", "slices", "cpu ms", "io bytes", "mem bytes", "share/weight");
        for (final DemoGuest g : all)
        {
            final int slot = schedule.slotOf(g.vmId);
            final long cpu = schedule.cpuNanos(slot);
            String fairness = "";
            if (cpuTotal > 0 && g.guest instanceof CpuBurnerGuest && ((CpuBurnerGuest)g.guest).dutyCycle() == 1.0 &&
                !g.equals(all.get(all.size() - 1)))
            {
                final double share = (double)cpu / cpuTotal;
                final double fair = (double)g.weight / weightTotal;
                fairness = String.format("%.1f%% / %.1f%%", 100 * share, 100 * fair);
            }
            out.printf("%-6d %-24s %6d %-10s %,10d %,10d %,12d %,12d %12s%n", g.vmId, g.kind, g.weight,
                EntryState.name(schedule.stateOfSlot(slot)).toLowerCase(), schedule.slices(slot),
                TimeUnit.NANOSECONDS.toMillis(cpu), schedule.ioBytes(slot), schedule.memBytes(slot), fairness);
        }
        out.println("share/weight: a full-time CPU burner's share of the burners' CPU time against its share of " +
            "their weight (the last guest is left out: it was suspended for a third of the run).");
    }

    private static final class DemoGuest
    {
        final long vmId;
        final String kind;
        final int weight;
        final Guest guest;

        DemoGuest(final long vmId, final String kind, final int weight, final Guest guest)
        {
            this.vmId = vmId;
            this.kind = kind;
            this.weight = weight;
            this.guest = guest;
        }
    }
}
