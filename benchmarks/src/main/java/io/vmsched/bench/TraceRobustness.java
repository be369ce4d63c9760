package io.vmsched.bench;

import io.vmsched.sim.SimulationResult;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.Traces;
import io.vmsched.sim.Workload;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * How well the random-pair trace defaults hold against greedy on days they were not tuned on. With one
 * PlanetLab day at hand, it stands in for other days with variants of it: random subsets of its VMs,
 * its two halves, and the day with every VM's series shifted by its own random offset (the same VMs,
 * their peaks no longer aligned). Each variant runs greedy and the trace defaults on several seeds
 * (initial placement and every random choice) and prints the ratio of the averages: meanCv / greedy's
 * (target ≤ 1.1) and migrations / greedy's (target ≤ 1).
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.vmsched.bench.TraceRobustness DIR [SEEDS]}
 */
public final class TraceRobustness
{
    private TraceRobustness()
    {
    }

    /**
     * @param args the PlanetLab day's directory, then optionally the number of seeds (default 5).
     */
    public static void main(final String[] args)
    {
        if (args.length < 1)
        {
            System.err.println("usage: TraceRobustness PLANETLAB_DAY_DIR [SEEDS]");
            System.exit(2);
        }
        final Workload day = Traces.planetLab(Path.of(args[0]));
        final int seeds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        final int vms = day.vms();
        final int steps = day.steps();
        final Map<String, Workload> variants = new LinkedHashMap<>();
        variants.put("day", day);
        variants.put("subset 700 (a)", slice(day, subset(vms, 700, 1), 0, steps, 0));
        variants.put("subset 700 (b)", slice(day, subset(vms, 700, 2), 0, steps, 0));
        variants.put("subset 700 (c)", slice(day, subset(vms, 700, 3), 0, steps, 0));
        variants.put("first half", slice(day, all(vms), 0, steps / 2, 0));
        variants.put("second half", slice(day, all(vms), steps / 2, steps, 0));
        variants.put("shifted (a)", slice(day, all(vms), 0, steps, 11));
        variants.put("shifted (b)", slice(day, all(vms), 0, steps, 12));
        variants.put("subset 500, shifted", slice(day, subset(vms, 500, 4), 0, steps, 13));

        System.out.printf(Locale.ROOT, "| variant | VMs | greedy meanCv | greedy migrations | defaults meanCv | " +
            "defaults migrations | meanCv ratio | migrations ratio |%n|---|---|---|---|---|---|---|---|%n");
        int held = 0;
        for (final Map.Entry<String, Workload> variant : variants.entrySet())
        {
            final double[] greedy = average(variant.getValue(), Simulator.Policy.GREEDY, seeds);
            final double[] pair = average(variant.getValue(), Simulator.Policy.RANDOM_PAIR, seeds);
            final double cvRatio = pair[0] / greedy[0];
            final double migrationRatio = pair[1] / greedy[1];
            final boolean holds = cvRatio <= 1.1 && migrationRatio <= 1.0;
            held += holds ? 1 : 0;
            System.out.printf(Locale.ROOT, "| %s | %d | %.4f | %,.0f | %.4f | %,.0f | %.3f | %.3f%s |%n",
                variant.getKey(), variant.getValue().vms(), greedy[0], greedy[1], pair[0], pair[1], cvRatio,
                migrationRatio, holds ? "" : " (misses)");
        }
        System.out.printf(Locale.ROOT, "target held on %d of %d variants (averages of %d seeds)%n", held,
            variants.size(), seeds);
    }

    private static double[] average(final Workload workload, final Simulator.Policy policy, final int seeds)
    {
        double cv = 0;
        double migrations = 0;
        for (int seed = 1; seed <= seeds; seed++)
        {
            final Simulator.Config config = Simulator.Config.traces();
            config.policy = policy;
            config.hosts = (workload.vms() + 9) / 10;
            config.seed = seed;
            final SimulationResult result = new Simulator(config, workload,
                Simulator.placement("random", workload.vms(), config.hosts, seed)).run(null);
            cv += result.meanCv();
            migrations += result.migrations();
        }
        return new double[] { cv / seeds, migrations / seeds };
    }

    private static Workload slice(final Workload day, final int[] vms, final int from, final int to, final long shiftSeed)
    {
        final float[][] cpu = new float[vms.length][to - from];
        final SplittableRandom random = new SplittableRandom(shiftSeed);
        final int length = day.steps();
        for (int i = 0; i < vms.length; i++)
        {
            final int offset = shiftSeed == 0 ? 0 : random.nextInt(length);
            for (int t = from; t < to; t++)
            {
                cpu[i][t - from] = (float)day.cpu(vms[i], (t + offset) % length);
            }
        }
        return new Workload(day.name() + " variant", cpu, null, null, day.weights(), day.hostCapacity());
    }

    private static int[] all(final int count)
    {
        final int[] indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = i;
        }
        return indices;
    }

    private static int[] subset(final int count, final int size, final long seed)
    {
        final List<Integer> indices = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            indices.add(i);
        }
        Collections.shuffle(indices, new Random(seed));
        final int[] chosen = new int[size];
        for (int i = 0; i < size; i++)
        {
            chosen[i] = indices.get(i);
        }
        java.util.Arrays.sort(chosen);
        return chosen;
    }
}
