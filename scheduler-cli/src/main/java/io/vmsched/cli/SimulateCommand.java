package io.vmsched.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.placement.Rule;
import io.vmsched.placement.RulesText;
import io.vmsched.sim.GeneratedRules;
import io.vmsched.sim.SimulationResult;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.SyntheticWorkload;
import io.vmsched.sim.Traces;
import io.vmsched.sim.Workload;
import io.vmsched.tools.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code vmsched simulate}: the deterministic simulator over synthetic loads or real traces.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Simulate a cluster balanced by a policy, over synthetic loads or a trace directory.")
final class SimulateCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--policy", defaultValue = "random-pair", description = "random-pair | greedy | none (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--trace", description = "Directory of trace files (else synthetic loads).")
    Path trace;

    @Option(names = "--format", defaultValue = "planetlab", description = "planetlab | bitbrains (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--vms", defaultValue = "1000", description = "Synthetic VMs (default: ${DEFAULT-VALUE}).")
    int vms;

    @Option(names = "--hosts", defaultValue = "0", description = "Hosts (default: 50 for synthetic, VMs / 10 rounded up for traces).")
    int hosts;

    @Option(names = "--load-dist", defaultValue = "lognormal", description = "uniform | lognormal (default: ${DEFAULT-VALUE}).")
    String loadDist;

    @Option(names = "--workload", defaultValue = "static", description = "Without --trace: static (one step of " +
        "CPU loads drawn by --load-dist) | memory-overcommit (a generated memory-bound trace of --steps steps, 288 if " +
        "not given: VMs' memory demand with diurnal swings and growth spells, scaled to 80 %% of the hosts' memory on " +
        "average, weights CPU 0.3, memory 0.7) (default: ${DEFAULT-VALUE}).")
    String workloadKind;

    @Option(names = "--balloon", description = "Each host's turn first asks its guests' balloons for memory when over " +
        "the band's top, gives it back under its bottom (the runtime's BalloonPolicy), and sheds nothing by migration " +
        "while balloons may still free the excess (issue 19).")
    boolean balloon;

    @Option(names = "--balloon-band", paramLabel = "ABOVE,BELOW", defaultValue = "0.85,0.70", description = "With " +
        "--balloon: the share of a host's memory above which it asks its balloons, and below which it gives memory " +
        "back, 0 <= BELOW < ABOVE <= 1 (default: ${DEFAULT-VALUE}).")
    String balloonBand;

    @Option(names = "--balloon-reclaimable", paramLabel = "F", defaultValue = "0.3", description = "With --balloon: " +
        "the share of a simulated guest's memory demand it can free (its cache), in [0, 1]; a modelling assumption, " +
        "the traces do not say (default: ${DEFAULT-VALUE}).")
    double balloonReclaimable;

    @Option(names = "--initial", defaultValue = "random", description = "all-on-one | random | round-robin (default: ${DEFAULT-VALUE}).")
    String initial;

    @Mixin
    final Mixins.Seed seed = new Mixins.Seed();

    @Option(names = "--steps", defaultValue = "0", description = "Steps (default: the trace length, or until converged).")
    int steps;

    @Option(names = "--rounds-per-step", description = "Exchange rounds per step (default: 1; 16 for traces).")
    Integer rounds;

    @Option(names = "--turns", description = "When a host takes its turn in each balance period: random | load, the most loaded first (default: random; load for traces).")
    String turns;

    @Option(names = "--peer-choices", description = "Random peers contacted per exchange, at most 8 (default: 1; 8 for traces).")
    Integer peerChoices;

    @Option(names = "--view", description = "What a host knows of its peers: contacts (the loads of the peers it contacts) | gossip (those, and a table of every host's load gossiped in quiet periods, each figure a period old or more) | global (every host's exact load, a comparison only; --peer-choices then unused) (default: the profile's).")
    String view;

    @Option(names = "--exchange-limit", description = "Moves per exchange, 0 = no limit (default: 4; 1 for traces).")
    Integer exchangeLimit;

    @Option(names = "--threshold", description = "Exchange when the difference exceeds this fraction of the mean (default: 0.10; 0.25 for traces, scaled by --size-exponent).")
    Double threshold;

    @Option(names = "--min-gain", description = "Least lowering of the difference per move, fraction of the mean (default: 0.02; 0.10 for traces, scaled by --size-exponent).")
    Double minGain;

    @Option(names = "--size-exponent", description = "Threshold and min gain x (hosts / 100) ^ this (default: 0; 0.4 for traces).")
    Double sizeExponent;

    @Option(names = "--smoothing", defaultValue = "1", description = "Samples the observed load is averaged over (default: ${DEFAULT-VALUE}).")
    double smoothing;

    @Option(names = "--ping-pong", defaultValue = "8", description = "Steps a VM may not return to the host it left (default: ${DEFAULT-VALUE}).")
    int pingPong;

    @Option(names = "--residency", defaultValue = "0", description = "Steps a VM stays before moving again (default: ${DEFAULT-VALUE}).")
    int residency;

    @Option(names = "--stability", defaultValue = "0", description = "Penalty on a VM's load volatility when choosing (default: ${DEFAULT-VALUE}).")
    double stability;

    @Option(names = "--above-mean", arity = "0..1", description = "Shed only while above the gossiped mean (default: off; on for traces).")
    Boolean aboveMean;

    @Option(names = "--source-excess", description = "With --above-mean: shed only above (1 + this) x the mean (default: 0, for traces too).")
    Double sourceExcess;

    @Option(names = "--cap-at-mean", defaultValue = "false", description = "Aim no further than the gossiped mean on either side.")
    boolean capAtMean;

    @Option(names = "--add-hosts", paramLabel = "N@STEP", description = "Add N empty hosts as step STEP starts (repeatable): scale-out; prints the periods until they are within 10 %% of the mean.")
    List<String> addHosts = new ArrayList<>();

    @Option(names = "--drain", paramLabel = "HOST@STEP", description = "Drain host HOST as step STEP starts " +
        "(repeatable; host ids from 0, STEP from 1): it takes no new VM and its VMs leave, at most --drain-parallel " +
        "in flight, each to where the runtime's placement chooses; prints the steps and migrations it took and " +
        "the mean CV before and during it (the CV of the hosts in service).")
    List<String> drain = new ArrayList<>();

    @Option(names = "--drain-parallel", paramLabel = "N", defaultValue = "4", description = "A draining host's VMs " +
        "in flight away at most, as the runtime's drainParallel (default: ${DEFAULT-VALUE}).")
    int drainParallel;

    @Option(names = "--profile", description = "Defaults the other options start from: static (synthetic loads) | traces | claims (the claims' plain settings, for comparison) (default: traces with --trace, else static).")
    String profile;

    @Option(names = "--peer-ceiling", description = "A move may leave the peer at most this many thresholds above the mean (default: no ceiling).")
    Double peerCeiling;

    @Option(names = "--pull", description = "Light hosts pull from a host they heard is this many thresholds above the mean, 0 = never (default: 0).")
    Double pull;

    @Option(names = "--scatter", negatable = true, description = "Shed to every contacted peer worth it, the least loaded first, not only to the least loaded (default: off).")
    Boolean scatter;

    @Option(names = "--migration-steps", defaultValue = "0", description = "Steps a migration takes, 0 = instant (default: ${DEFAULT-VALUE}).")
    int migrationSteps;

    @Option(names = "--concurrent", defaultValue = "0", description = "Migrations in flight per host, 0 = no limit (default: ${DEFAULT-VALUE}).")
    int concurrent;

    @Option(names = "--heterogeneous", description = "Hosts of alternating size and speed (1x, 2x).")
    boolean heterogeneous;

    @Option(names = "--dry-run", description = "Record decisions with their reasons instead of moving.")
    boolean dryRun;

    @Option(names = "--constraints", paramLabel = "FILE", description = "Services, placement rules and host labels " +
        "(the constraints file form, plus 'label NAME hosts=0-9,12'); VM ids are the workload's, 0 .. VMs-1 " +
        "(a trace's files in name order).")
    Path constraints;

    @Option(names = "--host-labels", paramLabel = "LABEL:IDS[,IDS][,LABEL:IDS]", description = "Label hosts by id: " +
        "ids and inclusive ranges after each LABEL:, e.g. a:0-49,b:50-99 or gpu:0-3,8.")
    String hostLabels;

    @Option(names = "--anti-affinity-pairs", paramLabel = "N", description = "N generated hard anti-affinity pairs " +
        "of VMs drawn at random (seeded).")
    Integer antiAffinityPairs;

    @Option(names = "--anti-affinity-pct", paramLabel = "P", description = "Generated hard anti-affinity pairs " +
        "covering P %% of the VMs (0-100, seeded).")
    Double antiAffinityPct;

    @Option(names = "--pin-half-to-labels", description = "Label the first half of the hosts half-a, the rest " +
        "half-b, and pin half the VMs (seeded) by hard on-label rules, half of them to each half.")
    boolean pinHalf;

    @Option(names = "--rules-from-step", paramLabel = "STEP", defaultValue = "0", description = "The rules come into " +
        "force at this step, as if added to a live cluster: the placement before ignores them, the repair turns " +
        "mend them (default: ${DEFAULT-VALUE}, from the initial placement on).")
    int rulesFromStep;

    @Mixin
    final Mixins.JsonOutput json = new Mixins.JsonOutput();

    /** Heap the simulator takes per VM (its workload, placement and state), bytes: 140 measured, with room. */
    static final long BYTES_PER_VM = 160;
    /** Heap per host (its VM list, loads and turn), bytes: 145 measured, with room. */
    static final long BYTES_PER_HOST = 160;
    /** Heap per step (the CV by step and its copy in the result), bytes. */
    static final long BYTES_PER_STEP = 16;
    /** Share of the free heap a run may plan to take: the rest is the JVM's, the output's and the error's margin. */
    static final double HEAP_SHARE = 0.8;

    /** Every numeric flag's range, in one place, before anything is read or allocated. */
    private void checkFlags()
    {
        if (!"planetlab".equals(format) && !"bitbrains".equals(format))
        {
            throw new IllegalArgumentException("--format must be planetlab or bitbrains, got '" + format + "'");
        }
        Flags.atLeast("--vms", vms, 1, "");
        if (hosts != 0) // 0: the default
        {
            Flags.atLeast("--hosts", hosts, 1, "");
        }
        Flags.atLeast("--steps", steps, 0, " (0: the default)");
        addHostsParsed(); // a bad --add-hosts is named before any work
        drainsParsed(); // so is a bad --drain (its host and step are checked against the run later)
        Flags.atLeast("--drain-parallel", drainParallel, 1, "");
        if (!drain.isEmpty() && dryRun)
        {
            throw new IllegalArgumentException("--drain moves VMs: it cannot be combined with --dry-run");
        }
        if (rounds != null)
        {
            Flags.atLeast("--rounds-per-step", rounds, 1, "");
        }
        if (peerChoices != null)
        {
            Flags.atLeast("--peer-choices", peerChoices, 1, "");
        }
        if (exchangeLimit != null)
        {
            Flags.atLeast("--exchange-limit", exchangeLimit, 0, " (0: no limit)");
        }
        if (threshold != null)
        {
            Flags.atLeast("--threshold", threshold, 0);
        }
        if (minGain != null)
        {
            Flags.atLeast("--min-gain", minGain, 0);
        }
        if (sizeExponent != null)
        {
            Flags.within("--size-exponent", sizeExponent, 0, 2);
        }
        if (sourceExcess != null)
        {
            Flags.atLeast("--source-excess", sourceExcess, 0);
        }
        if (peerCeiling != null)
        {
            Flags.atLeast("--peer-ceiling", peerCeiling, 0);
        }
        if (pull != null)
        {
            Flags.atLeast("--pull", pull, 0);
        }
        Flags.atLeast("--smoothing", smoothing, 1);
        Flags.atLeast("--stability", stability, 0);
        if (profile != null && !profile.equals("static") && !profile.equals("traces") && !profile.equals("claims"))
        {
            throw new IllegalArgumentException("unknown --profile '" + profile + "': expected static, traces or claims");
        }
        if (view != null && !view.equals("contacts") && !view.equals("gossip") && !view.equals("global"))
        {
            throw new IllegalArgumentException("unknown --view '" + view + "': expected contacts, gossip or global");
        }
        if (peerChoices != null && peerChoices > BalanceConfig.MAX_CONTACTS && !"global".equals(view))
        {
            throw new IllegalArgumentException("--peer-choices must be at most " + BalanceConfig.MAX_CONTACTS +
                ", got " + peerChoices + " (a host contacts at most " + BalanceConfig.MAX_CONTACTS + " peers per exchange)");
        }
        if (turns != null && !turns.equals("random") && !turns.equals("load"))
        {
            throw new IllegalArgumentException("unknown --turns '" + turns + "': expected random or load");
        }
        if (antiAffinityPairs != null)
        {
            Flags.atLeast("--anti-affinity-pairs", antiAffinityPairs, 0, "");
            if (antiAffinityPct != null)
            {
                throw new IllegalArgumentException("give --anti-affinity-pairs or --anti-affinity-pct, not both");
            }
        }
        if (antiAffinityPct != null)
        {
            Flags.within("--anti-affinity-pct", antiAffinityPct, 0, 100);
        }
        Flags.atLeast("--rules-from-step", rulesFromStep, 0, " (0: from the start)");
        if (hostLabels != null)
        {
            hostLabelsParsed(); // its form, before any work; its ids are checked against the hosts later
        }
        Flags.atLeast("--ping-pong", pingPong, 0, "");
        Flags.atLeast("--residency", residency, 0, "");
        Flags.atLeast("--migration-steps", migrationSteps, 0, " (0: instant)");
        Flags.atLeast("--concurrent", concurrent, 0, " (0: no limit)");
        if (!"static".equals(workloadKind) && !"memory-overcommit".equals(workloadKind))
        {
            throw new IllegalArgumentException("unknown --workload '" + workloadKind + "': expected static or memory-overcommit");
        }
        balloonBandParsed();
        Flags.within("--balloon-reclaimable", balloonReclaimable, 0, 1);
    }

    /** The generated memory-overcommit trace's default length: a day of 5-minute steps. */
    static final int OVERCOMMIT_STEPS = 288;

    /** Heap a generated trace takes per sample while it is made: its CPU and memory floats, and a double. */
    static final long BYTES_PER_GENERATED_SAMPLE = 16;

    /**
     * Refuse a generated trace the heap cannot hold, before making it: one line naming --vms and --steps.
     *
     * @param vmCount   VMs.
     * @param stepCount steps.
     */
    private static void checkTraceHeap(final long vmCount, final long stepCount)
    {
        final Runtime runtime = Runtime.getRuntime();
        final long budget = (long)((runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory())) * HEAP_SHARE);
        final long needed = vmCount * stepCount * BYTES_PER_GENERATED_SAMPLE + vmCount * BYTES_PER_VM;
        if (needed > budget)
        {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "--workload memory-overcommit with --vms %d " +
                "and --steps %d needs about %s of heap, more than the %s this JVM has free (fewer VMs or steps, or " +
                "raise -Xmx)", vmCount, stepCount, mib(needed), mib(budget)));
        }
    }

    /** {@code --balloon-band ABOVE,BELOW} as the policy; a bad one named in one line. */
    io.vmsched.balloon.BalloonPolicy balloonBandParsed()
    {
        final String[] parts = balloonBand.split(",", -1);
        double above = Double.NaN;
        double below = Double.NaN;
        if (parts.length == 2)
        {
            try
            {
                above = Double.parseDouble(parts[0].trim());
                below = Double.parseDouble(parts[1].trim());
            }
            catch (final NumberFormatException ignored)
            {
                // named below
            }
        }
        if (!(above > 0 && above <= 1 && below >= 0 && below < above))
        {
            throw new IllegalArgumentException("--balloon-band expects ABOVE,BELOW, shares of a host's memory with " +
                "0 <= BELOW < ABOVE <= 1 (e.g. 0.85,0.70), got '" + balloonBand + "'");
        }
        return new io.vmsched.balloon.BalloonPolicy(above, below);
    }

    /**
     * Refuse a run the heap cannot hold, before allocating it: one line naming the flag that asks
     * for the most and how far it may go with the others as given.
     */
    private static void checkHeap(final long vmCount, final String vmsFlag, final long hostCount, final long stepCount)
    {
        final Runtime runtime = Runtime.getRuntime();
        final long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        checkHeap(vmCount, vmsFlag, hostCount, stepCount, (long)(free * HEAP_SHARE));
    }

    /**
     * @param vmCount   VMs to simulate.
     * @param vmsFlag   the flag that set them ({@code --vms}), or null if a trace did.
     * @param hostCount hosts.
     * @param stepCount steps.
     * @param budget    heap bytes the run may take.
     * @throws IllegalArgumentException naming the largest consumer's flag and its limit if over budget.
     */
    static void checkHeap(final long vmCount, final String vmsFlag, final long hostCount, final long stepCount,
        final long budget)
    {
        final long vmBytes = vmCount * BYTES_PER_VM;
        final long hostBytes = hostCount * BYTES_PER_HOST;
        final long stepBytes = stepCount * BYTES_PER_STEP;
        final long needed = vmBytes + hostBytes + stepBytes;
        if (needed <= budget)
        {
            return;
        }
        final String flag;
        final long value;
        final long limit;
        if (vmBytes >= hostBytes && vmBytes >= stepBytes)
        {
            if (vmsFlag == null)
            {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "the trace's %,d VMs need about %s of heap, " +
                    "more than the %s this JVM has free (raise -Xmx)", vmCount, mib(needed), mib(budget)));
            }
            flag = vmsFlag;
            value = vmCount;
            limit = Math.max(0, budget - hostBytes - stepBytes) / BYTES_PER_VM;
        }
        else if (hostBytes >= stepBytes)
        {
            flag = "--hosts";
            value = hostCount;
            limit = Math.max(0, budget - vmBytes - stepBytes) / BYTES_PER_HOST;
        }
        else
        {
            flag = "--steps";
            value = stepCount;
            limit = Math.max(0, budget - vmBytes - hostBytes) / BYTES_PER_STEP;
        }
        throw new IllegalArgumentException(String.format(Locale.ROOT, "%s %d needs about %s of heap, more than the %s " +
            "this JVM has free: at most %,d with the other settings as given (or raise -Xmx)", flag, value, mib(needed),
            mib(budget), limit));
    }

    private static String mib(final long bytes)
    {
        return bytes >= 10L << 30 ? String.format(Locale.ROOT, "%.0f GiB", bytes / (double)(1L << 30)) :
            String.format(Locale.ROOT, "%,d MiB", bytes >> 20);
    }

    @Override
    public void run()
    {
        final PrintWriter out = spec.commandLine().getOut();
        checkFlags();
        final Simulator.Policy parsedPolicy = Simulator.Policy.parse(policy);
        if (parsedPolicy != Simulator.Policy.NONE && hosts == 1)
        {
            throw new IllegalArgumentException("--hosts must be at least 2 to balance (1 host runs only with --policy none), " +
                "got 1");
        }
        if (trace == null)
        {
            // before the workload is made: a synthetic run's size is all in the flags
            checkHeap(vms, "--vms", hosts > 0 ? hosts : 50, steps > 0 ? steps : Simulator.Config.claims().maxSteps);
        }
        final Workload workload;
        if (trace != null)
        {
            switch (format)
            {
                case "planetlab": workload = Traces.planetLab(trace); break;
                case "bitbrains": workload = Traces.bitbrains(trace, hosts); break;
                default: throw new IllegalArgumentException("--format must be planetlab or bitbrains, got '" + format + "'");
            }
            checkHeap(workload.vms(), null, hosts > 0 ? hosts : Traces.defaultHosts(workload.vms()),
                steps > 0 ? steps : workload.steps());
        }
        else if ("memory-overcommit".equals(workloadKind))
        {
            checkTraceHeap(vms, steps > 0 ? steps : OVERCOMMIT_STEPS);
            workload = SyntheticWorkload.memoryOvercommit(vms, hosts > 0 ? hosts : 50, steps > 0 ? steps : OVERCOMMIT_STEPS,
                seed.value());
        }
        else
        {
            workload = SyntheticWorkload.staticLoads(vms, loadDist, seed.value());
        }
        // Each tunable not given on the command line takes its profile's default: the claims' plain
        // settings for static synthetic loads, the tuned trace settings for traces.
        final String chosen = chosenProfile();
        final Simulator.Config config = chosen.equals("traces") ? Simulator.Config.traces() :
            chosen.equals("claims") ? Simulator.Config.claims() : Simulator.Config.staticLoads();
        config.policy = parsedPolicy;
        config.hosts = hosts > 0 ? hosts : (trace != null ? Traces.defaultHosts(workload.vms()) : 50);
        config.steps = steps;
        config.addHosts = addHostsParsed();
        config.drains = drainsParsed();
        config.drainParallel = drainParallel;
        if (balloon)
        {
            config.balloon = balloonBandParsed();
            config.balloonReclaimable = balloonReclaimable;
        }
        if (rounds != null)
        {
            config.roundsPerStep = rounds;
        }
        config.migrationSteps = migrationSteps;
        config.smoothingWindow = smoothing;
        config.seed = seed.value();
        config.hostScales = heterogeneous ? new double[] { 1.0, 2.0 } : new double[] { 1.0 };
        final BalanceConfig balance = config.balance;
        if (threshold != null)
        {
            balance.thresholdFraction = threshold;
        }
        if (minGain != null)
        {
            balance.minGainFraction = minGain;
        }
        if (sizeExponent != null)
        {
            balance.sizeExponent = sizeExponent;
        }
        if (exchangeLimit != null)
        {
            balance.maxMovesPerExchange = exchangeLimit;
        }
        balance.maxConcurrentPerHost = concurrent;
        balance.minResidency = residency;
        balance.pingPongGuard = pingPong;
        if (peerChoices != null)
        {
            balance.peerChoices = peerChoices;
        }
        if (aboveMean != null)
        {
            balance.shedOnlyAboveMean = aboveMean;
        }
        balance.stabilityWeight = stability;
        if (view != null)
        {
            balance.view = BalanceConfig.PeerView.parse(view);
        }
        else if (peerChoices != null && balance.view == BalanceConfig.PeerView.GLOBAL)
        {
            balance.view = BalanceConfig.PeerView.CONTACTS; // peers contacted mean a view with contacts
        }
        if (turns != null)
        {
            balance.loadOrderedTurns = turns.equals("load");
        }
        balance.capAtMean = capAtMean;
        if (peerCeiling != null)
        {
            balance.peerCeilingFraction = peerCeiling;
        }
        if (scatter != null)
        {
            balance.scatter = scatter;
        }
        if (pull != null)
        {
            balance.pullFactor = pull;
        }
        if (sourceExcess != null)
        {
            balance.sourceExcessFraction = sourceExcess;
        }
        balance.dryRun = dryRun;

        rules(config, workload.vms());

        final int[] placement = Simulator.placement(initial, workload.vms(), config.hosts, seed.value());
        final Simulator simulator = new Simulator(config, workload, placement);
        final boolean bar = !json.wanted() && System.console() != null;
        if (!json.wanted())
        {
            final BalanceConfig applied = balance.forHosts(config.hosts);
            out.printf(Locale.ROOT, "settings (%s profile): rounds/step %d, %s%s%n", chosenProfile(), config.roundsPerStep, balance,
                balance.sizeExponent != 0.0 ? String.format(Locale.ROOT, " (on %d hosts: threshold %.4f, min gain %.4f)",
                config.hosts, applied.thresholdFraction, applied.minGainFraction) : "");
        }
        final int total = steps > 0 ? steps : workload.steps() > 1 ? workload.steps() : config.maxSteps;
        final SimulationResult result = simulator.run(bar ? step ->
        {
            if (step % Math.max(1, total / 50) == 0 || step == total)
            {
                final int filled = (int)(40L * step / total);
                System.err.print("\r[" + "#".repeat(filled) + " ".repeat(40 - filled) + "] step " + step + "/" + total);
                System.err.flush();
            }
        } : null);
        if (bar)
        {
            System.err.print("\r" + " ".repeat(70) + "\r");
        }

        if (!json.wanted())
        {
            out.printf(Locale.ROOT, "%s: %d VMs on %d hosts, policy %s, %d steps%n", workload.name(), result.vms(),
                result.hosts(), result.policy(), result.steps());
            out.printf(Locale.ROOT, "%-22s %12s%n", "initial CV", String.format(Locale.ROOT, "%.4f", result.initialCv()));
            out.printf(Locale.ROOT, "%-22s %12s%n", "final CV", String.format(Locale.ROOT, "%.4f", result.finalCv()));
            out.printf(Locale.ROOT, "%-22s %12s%n", "mean CV", String.format(Locale.ROOT, "%.4f", result.meanCv()));
            out.printf(Locale.ROOT, "%-22s %12s%n", "max / mean (final)", String.format(Locale.ROOT, "%.3f", result.maxOverMean()));
            out.printf(Locale.ROOT, "%-22s %12s%n", "steps to CV <= 0.05",
                result.stepsToConverge() == null ? "never" : result.stepsToConverge().toString());
            out.printf(Locale.ROOT, "%-22s %,12d%n", "migrations", result.migrations());
            out.printf(Locale.ROOT, "%-22s %,12d%n", "displaced VMs", result.displacedVms());
            out.printf(Locale.ROOT, "%-22s %,12d%n", "lower bound", result.lowerBoundMigrations());
            if (result.addedHosts() != null)
            {
                out.printf(Locale.ROOT, "%-22s %12s%n", "added hosts full", result.addedFilledAfter() == null ? "never" :
                    String.format(Locale.ROOT, "%d periods", result.addedFilledAfter()));
            }
            final SimulationResult.Rules rules = result.rules();
            if (rules != null)
            {
                out.printf(Locale.ROOT, "%-22s %12s%n", "rules", String.format(Locale.ROOT, "%,d (%,d hard)%s", rules.rules(),
                    rules.hardRules(), rules.fromStep() > 0 ? " from step " + rules.fromStep() : ""));
                out.printf(Locale.ROOT, "%-22s %12s%n", "hard broken", String.format(Locale.ROOT,
                    "%d at end, max %d, %d at start", rules.hardBroken(), rules.maxHardBroken(), rules.initialHard()));
                out.printf(Locale.ROOT, "%-22s %12s%n", "soft broken", String.format(Locale.ROOT,
                    "%d at end, max %d, %d at start", rules.softBroken(), rules.maxSoftBroken(), rules.initialSoft()));
                out.printf(Locale.ROOT, "%-22s %,12d%n", "repairs", rules.repairs());
                out.printf(Locale.ROOT, "%-22s %,12d%n", "placed by the rules", rules.admittedElsewhere());
                if (rules.refusedOnArrival() > 0)
                {
                    out.printf(Locale.ROOT, "%-22s %,12d%n", "refused on arrival", rules.refusedOnArrival());
                }
            }
            for (final SimulationResult.Drain d : result.drains())
            {
                out.println(drainLine(d));
            }
            if (result.balloon() != null)
            {
                balloonLines(out, result.balloon());
            }
            out.printf(Locale.ROOT, "%-22s %,12d%n", "wall ms", result.wallMillis());
            final StringBuilder cvs = new StringBuilder();
            final double[] byStep = result.cvByStep();
            final int stride = Math.max(1, byStep.length / 24);
            for (int i = 0; i < byStep.length; i += stride)
            {
                cvs.append(String.format(Locale.ROOT, " %d:%.3f", i + 1, byStep[i]));
            }
            out.println("CV by step:" + cvs);
            if (dryRun)
            {
                out.printf(Locale.ROOT, "dry run: %,d decisions recorded, nothing moved; the first:%n", result.decisionsRecorded());
                for (final BalanceDecision d : result.decisions())
                {
                    out.println("  " + d);
                }
            }
        }
        else
        {
            json(out, result);
        }
        out.flush();
    }

    /**
     * The constraints file (read first: its mistakes are named at file:line before any work), then the
     * generated rules and the host labels, into the config.
     */
    private void rules(final Simulator.Config config, final int vmCount)
    {
        if (constraints == null && hostLabels == null && antiAffinityPairs == null && antiAffinityPct == null && !pinHalf)
        {
            return;
        }
        final RulesText.Statements statements = constraints != null ? RulesText.read(constraints) :
            RulesText.parse("generated", List.of());
        final int pairs = antiAffinityPairs != null ? antiAffinityPairs :
            antiAffinityPct != null ? GeneratedRules.pairsFor(vmCount, antiAffinityPct) : 0;
        if (pairs > 0)
        {
            GeneratedRules.antiAffinityPairs(statements, vmCount, pairs, seed.value());
        }
        if (pinHalf)
        {
            GeneratedRules.pinHalfToLabels(statements, vmCount, config.hosts, seed.value());
        }
        config.constraints = statements;
        config.rulesFromStep = rulesFromStep;
        if (hostLabels != null)
        {
            final Map<String, int[]> byLabel = hostLabelsParsed();
            final List<Set<String>> labels = new ArrayList<>();
            for (int h = 0; h < config.hosts; h++)
            {
                labels.add(new TreeSet<>());
            }
            byLabel.forEach((label, ids) ->
            {
                for (final int id : ids)
                {
                    if (id >= config.hosts)
                    {
                        throw new IllegalArgumentException("--host-labels names host " + id + " for label " + label +
                            "; the run has " + config.hosts + " hosts (ids 0-" + (config.hosts - 1) + ")");
                    }
                    labels.get(id).add(label);
                }
            });
            config.hostLabels = labels;
        }
    }

    /** {@code --host-labels LABEL:IDS[,IDS][,LABEL:IDS...]} as each label's host ids; a bad one named in one line. */
    Map<String, int[]> hostLabelsParsed()
    {
        final Map<String, StringBuilder> byLabel = new LinkedHashMap<>();
        String label = null;
        for (final String part : hostLabels.split(",", -1))
        {
            final int colon = part.indexOf(':');
            if (colon >= 0)
            {
                label = part.substring(0, colon);
            }
            else if (label == null)
            {
                throw new IllegalArgumentException("--host-labels expects LABEL:IDS[,IDS][,LABEL:IDS...] (host ids and " +
                    "ranges after each label, e.g. a:0-49,b:50-99), got '" + hostLabels + "'");
            }
            final StringBuilder ids = byLabel.computeIfAbsent(label, k -> new StringBuilder());
            ids.append(ids.length() == 0 ? "" : ",").append(colon >= 0 ? part.substring(colon + 1) : part);
        }
        final Map<String, int[]> out = new LinkedHashMap<>();
        byLabel.forEach((name, ids) ->
        {
            try
            {
                Rule.checkLabel(name);
                out.put(name, RulesText.parseHosts(ids.toString()));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("--host-labels, label '" + name + "': " + ex.getMessage());
            }
        });
        return out;
    }

    private String chosenProfile()
    {
        return profile != null ? profile : (trace != null || "memory-overcommit".equals(workloadKind) ? "traces" : "static");
    }

    /** The balloon's lines of the text summary. */
    static void balloonLines(final PrintWriter out, final SimulationResult.Balloon b)
    {
        final double gib = 1L << 30;
        out.printf(Locale.ROOT, "%-22s %12s%n", "balloon", String.format(Locale.ROOT,
            "band %.2f-%.2f of a host's memory, guests free up to %.0f %% of their demand", b.deflateBelow(),
            b.inflateAbove(), 100 * b.reclaimable()));
        final StringBuilder outcomes = new StringBuilder();
        b.byOutcome().forEach((outcome, count) -> outcomes.append(outcomes.length() == 0 ? "" : ", ")
            .append(outcome.toLowerCase(Locale.ROOT)).append(' ').append(count));
        out.printf(Locale.ROOT, "%-22s %12s%n", "balloon requests", String.format(Locale.ROOT,
            "%,d to give (%s), %,d to take back", b.inflations(), outcomes.length() == 0 ? "none" : outcomes,
            b.deflations()));
        out.printf(Locale.ROOT, "%-22s %12s%n", "memory reclaimed", String.format(Locale.ROOT,
            "%.1f GiB freed by answers; held out %.1f GiB at peak, %.1f GiB at the end; %.1f GiB given back", b.reclaimedTotal() / gib,
            b.reclaimedPeak() / gib, b.reclaimedAtEnd() / gib, b.returnedTotal() / gib));
        out.printf(Locale.ROOT, "%-22s %,12d%n", "turns held", b.heldTurns());
        out.printf(Locale.ROOT, "%-22s %,12d%n", "VM-steps below floor", b.belowFloorVmSteps());
        out.printf(Locale.ROOT, "%-22s %12s%n", "hosts over at end", String.format(Locale.ROOT,
            "%d (the fullest at %.3f of its memory)", b.hostsOverAtEnd(), b.maxMemoryShareAtEnd()));
    }

    /** One drain's line of the text summary. */
    static String drainLine(final SimulationResult.Drain d)
    {
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "drain host %d from step %d: ", d.host(),
            d.startStep()));
        if (d.complete())
        {
            sb.append(String.format(Locale.ROOT, "empty in step %d (%d step%s), %d VMs moved",
                d.emptyStep(), d.steps(), d.steps() == 1 ? "" : "s", d.vmsAtStart()));
        }
        else
        {
            sb.append(String.format(Locale.ROOT, "incomplete: %d of %d VMs left at the end", d.vmsLeft(), d.vmsAtStart()));
        }
        sb.append(String.format(Locale.ROOT, ", %d migrations; mean CV %.4f before, %.4f during, %.4f since", d.migrations(),
            d.meanCvBefore(), d.meanCvDuring(), d.meanCvSince()));
        if (!d.complete())
        {
            if (d.blocked().isEmpty())
            {
                sb.append("; none blocked: the run ended first");
            }
            else
            {
                final Map.Entry<Long, String> first = d.blocked().entrySet().iterator().next();
                sb.append(String.format(Locale.ROOT, "; blocked: VM %d by %s", first.getKey(), first.getValue()));
                if (d.blocked().size() > 1)
                {
                    sb.append(String.format(Locale.ROOT, ", and %d more VM%s", d.blocked().size() - 1,
                        d.blocked().size() == 2 ? "" : "s"));
                }
            }
        }
        return sb.toString();
    }

    /** {@code --drain HOST@STEP} values as {host, step} pairs; a malformed one, or a host named twice, in one line. */
    int[][] drainsParsed()
    {
        final int[][] parsed = new int[drain.size()][];
        final Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < parsed.length; i++)
        {
            final String text = drain.get(i);
            final int at = text.indexOf('@');
            try
            {
                final int host = Integer.parseInt(text.substring(0, Math.max(0, at)));
                final int step = Integer.parseInt(text.substring(at + 1));
                if (at > 0 && host >= 0 && step >= 1)
                {
                    if (!seen.add(host))
                    {
                        throw new IllegalArgumentException("--drain names host " + host + " twice ('" + text +
                            "'): a host is drained once");
                    }
                    parsed[i] = new int[] { host, step };
                    continue;
                }
            }
            catch (final NumberFormatException ignored)
            {
                // named below
            }
            throw new IllegalArgumentException("--drain expects HOST@STEP (a host id >= 0, drained as step STEP >= 1 " +
                "starts), got '" + text + "'");
        }
        return parsed;
    }

    /** {@code --add-hosts N@STEP} values as {count, step} pairs; a bad one named in one line. */
    int[][] addHostsParsed()
    {
        final int[][] parsed = new int[addHosts.size()][];
        for (int i = 0; i < parsed.length; i++)
        {
            final String text = addHosts.get(i);
            final int at = text.indexOf('@');
            try
            {
                final int count = Integer.parseInt(text.substring(0, Math.max(0, at)));
                final int step = Integer.parseInt(text.substring(at + 1));
                if (at > 0 && count >= 1 && step >= 1)
                {
                    parsed[i] = new int[] { count, step };
                    continue;
                }
            }
            catch (final NumberFormatException ignored)
            {
                // named below
            }
            throw new IllegalArgumentException("--add-hosts expects N@STEP (N >= 1 hosts joining as step STEP >= 1 starts), got '" +
                text + "'");
        }
        return parsed;
    }

    /**
     * The summary as one JSON line: the summary's fields, through
     * Jackson (a policy's name escaped, a CV that is not a number written as null, not as NaN).
     */
    static void json(final PrintWriter out, final SimulationResult r)
    {
        try (JsonGenerator g = Json.lines(out))
        {
            g.writeStartObject();
            g.writeNumberField("hosts", r.hosts());
            g.writeNumberField("vms", r.vms());
            g.writeNumberField("steps", r.steps());
            g.writeStringField("policy", r.policy());
            g.writeNumberField("migrations", r.migrations());
            g.writeNumberField("displacedVms", r.displacedVms());
            sixDigits(g, "initialCv", r.initialCv());
            sixDigits(g, "finalCv", r.finalCv());
            sixDigits(g, "meanCv", r.meanCv());
            sixDigits(g, "maxOverMean", r.maxOverMean());
            g.writeFieldName("stepsToConverge");
            if (r.stepsToConverge() == null)
            {
                g.writeNull();
            }
            else
            {
                g.writeNumber(r.stepsToConverge());
            }
            g.writeNumberField("lowerBoundMigrations", r.lowerBoundMigrations());
            g.writeNumberField("exchanges", r.exchanges());
            g.writeNumberField("dryRunDecisions", r.decisionsRecorded());
            g.writeNumberField("wallMillis", r.wallMillis());
            if (r.addedHosts() != null)
            {
                g.writeNumberField("addedHosts", r.addedHosts());
                g.writeFieldName("addedFilledAfterPeriods"); // null: never within 10 % of the mean
                if (r.addedFilledAfter() == null)
                {
                    g.writeNull();
                }
                else
                {
                    g.writeNumber(r.addedFilledAfter());
                }
            }
            final SimulationResult.Rules rules = r.rules();
            if (rules != null)
            {
                g.writeObjectFieldStart("rules");
                g.writeNumberField("count", rules.rules());
                g.writeNumberField("hard", rules.hardRules());
                g.writeNumberField("fromStep", rules.fromStep());
                g.writeNumberField("hardBroken", rules.hardBroken());
                g.writeNumberField("softBroken", rules.softBroken());
                g.writeNumberField("maxHardBroken", rules.maxHardBroken());
                g.writeNumberField("maxSoftBroken", rules.maxSoftBroken());
                g.writeNumberField("initialHardBroken", rules.initialHard());
                g.writeNumberField("initialSoftBroken", rules.initialSoft());
                g.writeNumberField("repairs", rules.repairs());
                g.writeNumberField("placedByRules", rules.admittedElsewhere());
                g.writeNumberField("refusedOnArrival", rules.refusedOnArrival());
                g.writeEndObject();
            }
            final SimulationResult.Balloon bal = r.balloon();
            if (bal != null)
            {
                g.writeObjectFieldStart("balloon");
                sixDigits(g, "inflateAbove", bal.inflateAbove());
                sixDigits(g, "deflateBelow", bal.deflateBelow());
                sixDigits(g, "reclaimable", bal.reclaimable());
                g.writeNumberField("inflations", bal.inflations());
                g.writeNumberField("deflations", bal.deflations());
                g.writeObjectFieldStart("byOutcome");
                for (final Map.Entry<String, Long> o : bal.byOutcome().entrySet())
                {
                    g.writeNumberField(o.getKey(), o.getValue());
                }
                g.writeEndObject();
                g.writeNumberField("reclaimedTotalBytes", bal.reclaimedTotal());
                g.writeNumberField("reclaimedPeakBytes", bal.reclaimedPeak());
                g.writeNumberField("reclaimedAtEndBytes", bal.reclaimedAtEnd());
                g.writeNumberField("returnedTotalBytes", bal.returnedTotal());
                g.writeNumberField("heldTurns", bal.heldTurns());
                g.writeNumberField("belowFloorVmSteps", bal.belowFloorVmSteps());
                g.writeNumberField("hostsOverAtEnd", bal.hostsOverAtEnd());
                sixDigits(g, "maxMemoryShareAtEnd", bal.maxMemoryShareAtEnd());
                g.writeEndObject();
            }
            if (!r.drains().isEmpty())
            {
                g.writeArrayFieldStart("drains");
                for (final SimulationResult.Drain d : r.drains())
                {
                    g.writeStartObject();
                    g.writeNumberField("host", d.host());
                    g.writeNumberField("startStep", d.startStep());
                    g.writeFieldName("emptyStep"); // null: it never emptied
                    if (d.emptyStep() == null)
                    {
                        g.writeNull();
                    }
                    else
                    {
                        g.writeNumber(d.emptyStep());
                    }
                    g.writeBooleanField("complete", d.complete());
                    g.writeNumberField("vmsAtStart", d.vmsAtStart());
                    g.writeNumberField("vmsLeft", d.vmsLeft());
                    g.writeNumberField("migrations", d.migrations());
                    sixDigits(g, "meanCvBefore", d.meanCvBefore());
                    sixDigits(g, "meanCvDuring", d.meanCvDuring());
                    sixDigits(g, "meanCvSince", d.meanCvSince());
                    g.writeObjectFieldStart("blocked"); // VM id: the rule or limit refusing it, and where
                    for (final Map.Entry<Long, String> b : d.blocked().entrySet())
                    {
                        g.writeStringField(Long.toString(b.getKey()), b.getValue());
                    }
                    g.writeEndObject();
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            Json.endLine(g);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** A ratio rounded to 6 decimals, as the summary has always printed them; null if not finite. */
    private static void sixDigits(final JsonGenerator g, final String name, final double value) throws IOException
    {
        if (Double.isFinite(value))
        {
            g.writeFieldName(name);
            g.writeNumber(String.format(Locale.ROOT, "%.6f", value)); // written as given: a number's text
        }
        else
        {
            Json.number(g, name, value);
        }
    }
}
