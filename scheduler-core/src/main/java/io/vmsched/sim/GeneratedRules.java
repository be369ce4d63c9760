package io.vmsched.sim;

import io.vmsched.placement.Rule;
import io.vmsched.placement.RulesText;

import java.util.SplittableRandom;

/**
 * Placement rules generated for a simulated run, seeded, to measure what rules cost the balancer:
 * hard anti-affinity pairs over a share of the VMs ({@code --anti-affinity-pairs},
 * {@code --anti-affinity-pct}), and half the VMs pinned by hard on-label rules to the labelled halves of
 * the hosts ({@code --pin-half-to-labels}). They are added to a constraints text's statements, so they
 * go through the same checks and the same code as a constraints file's.
 * <p>
 * <b>Note:</b> Stateless.
 */
public final class GeneratedRules
{
    /** The label of the first half of the hosts under {@link #pinHalfToLabels}. */
    public static final String FIRST_HALF = "half-a";
    /** The label of the second half. */
    public static final String SECOND_HALF = "half-b";

    private GeneratedRules()
    {
    }

    /**
     * @param vms     VMs in the run.
     * @param percent share of them to put in pairs, 0-100.
     * @return pairs covering that share (rounded to the nearest pair; all the VMs can make, at 100 %).
     */
    public static int pairsFor(final int vms, final double percent)
    {
        if (!(percent >= 0 && percent <= 100))
        {
            throw new IllegalArgumentException("--anti-affinity-pct must be 0-100, got " + percent);
        }
        return (int)Math.min(Math.round(vms * percent / 200.0), vms / 2);
    }

    /**
     * Add {@code pairs} hard anti-affinity rules {@code pair-0 ..}, each over two VMs drawn at random,
     * no VM in two pairs.
     *
     * @param into  the statements to add to.
     * @param vms   VMs in the run (ids 0 .. vms - 1).
     * @param pairs pairs, at most vms / 2.
     * @param seed  the run's seed.
     */
    public static void antiAffinityPairs(final RulesText.Statements into, final int vms, final int pairs, final long seed)
    {
        if (pairs < 0 || 2L * pairs > vms)
        {
            throw new IllegalArgumentException("--anti-affinity-pairs " + pairs + " needs " + 2L * pairs +
                " VMs; the run has " + vms + " (at most " + vms / 2 + " pairs)");
        }
        final int[] order = shuffled(vms, seed * 1_000_003L + 17);
        for (int p = 0; p < pairs; p++)
        {
            into.rules.add(Rule.antiAffinity("pair-" + p, true, order[2 * p], order[2 * p + 1]));
        }
    }

    /**
     * Label the first half of the hosts {@link #FIRST_HALF} and the rest {@link #SECOND_HALF}, and pin
     * half the VMs, drawn at random, by hard on-label rules: half of them ({@code pin-a}) to the first
     * half, the others ({@code pin-b}) to the second.
     *
     * @param into  the statements to add to.
     * @param vms   VMs in the run (ids 0 .. vms - 1).
     * @param hosts hosts at the start.
     * @param seed  the run's seed.
     */
    public static void pinHalfToLabels(final RulesText.Statements into, final int vms, final int hosts, final long seed)
    {
        if (vms < 4 || hosts < 2)
        {
            throw new IllegalArgumentException("--pin-half-to-labels needs at least 4 VMs and 2 hosts, got " + vms +
                " and " + hosts);
        }
        for (final String label : new String[] { FIRST_HALF, SECOND_HALF })
        {
            if (into.hostLabels.containsKey(label))
            {
                throw new IllegalArgumentException(into.at("label " + label) + "label " + label +
                    " is given by --pin-half-to-labels too");
            }
        }
        into.hostLabels.put(FIRST_HALF, range(0, hosts / 2));
        into.hostLabels.put(SECOND_HALF, range(hosts / 2, hosts));
        final int[] order = shuffled(vms, seed * 1_000_003L + 29);
        final int pinned = vms / 2;
        final long[] a = new long[pinned / 2];
        final long[] b = new long[pinned - a.length];
        for (int i = 0; i < pinned; i++)
        {
            if (i < a.length)
            {
                a[i] = order[i];
            }
            else
            {
                b[i - a.length] = order[i];
            }
        }
        into.rules.add(Rule.hostLabel("pin-a", Rule.Kind.ON_LABEL, true, FIRST_HALF, a));
        into.rules.add(Rule.hostLabel("pin-b", Rule.Kind.ON_LABEL, true, SECOND_HALF, b));
    }

    private static int[] range(final int from, final int to)
    {
        final int[] ids = new int[to - from];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = from + i;
        }
        return ids;
    }

    /** 0 .. n - 1 in a seeded random order (Fisher-Yates). */
    private static int[] shuffled(final int n, final long seed)
    {
        final int[] order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        final SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
