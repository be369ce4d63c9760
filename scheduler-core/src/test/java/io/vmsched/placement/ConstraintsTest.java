package io.vmsched.placement;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class ConstraintsTest
{
    private static final String[] LABELS = { "a", "b", "c" };
    private static final int VMS = 40; // ids 0..39; the rules name 0..34, so 35..39 are in none

    /** Random rules over VMs and services, small and large groups, on random hosts' labels. */
    static Constraints randomRules(final SplittableRandom random, final int hosts)
    {
        final Map<String, long[]> services = new HashMap<>();
        services.put("web", pick(random, 2 + random.nextInt(8)));
        services.put("big", pick(random, Constraints.PARTNERS_FROM + 1 + random.nextInt(10))); // walked by rule
        final List<Rule> rules = new ArrayList<>();
        final int count = 1 + random.nextInt(30);
        for (int r = 0; r < count; r++)
        {
            final Rule.Kind kind = Rule.Kind.values()[random.nextInt(4)];
            final boolean hard = random.nextBoolean();
            final String label = kind == Rule.Kind.ON_LABEL || kind == Rule.Kind.OFF_LABEL ?
                LABELS[random.nextInt(LABELS.length)] : null;
            if (random.nextInt(5) == 0)
            {
                rules.add(Rule.ofService("s" + r, kind, hard, random.nextBoolean() ? "web" : "big", label));
                continue;
            }
            final int size = random.nextInt(6) == 0 ? 17 + random.nextInt(10) : 2 + random.nextInt(4);
            final long[] vms = pick(random, size);
            rules.add(label == null ? (kind == Rule.Kind.AFFINITY ? Rule.affinity("r" + r, hard, vms) :
                Rule.antiAffinity("r" + r, hard, vms)) : Rule.hostLabel("r" + r, kind, hard, label, vms));
        }
        final List<Set<String>> labels = new ArrayList<>();
        for (int h = 0; h < hosts; h++)
        {
            final Set<String> carried = new HashSet<>();
            for (final String label : LABELS)
            {
                if (random.nextInt(3) == 0)
                {
                    carried.add(label);
                }
            }
            labels.add(carried);
        }
        return Constraints.compile(rules, services, labels);
    }

    private static long[] pick(final SplittableRandom random, final int size)
    {
        final long[] vms = new long[size];
        for (int i = 0; i < size; i++)
        {
            vms[i] = random.nextInt(35);
        }
        vms[0] = vms.length > 1 && vms[1] == vms[0] ? (vms[0] + 1) % 35 : vms[0];
        return vms;
    }

    /** The rule's meaning, written from the rule alone: whether {@code vm} on {@code target} breaks it. */
    private static boolean oracle(final Constraints c, final int r, final long vm, final int target,
        final Constraints.Locator where)
    {
        final Rule rule = c.rule(r);
        final long[] members = c.membersOf(r);
        switch (rule.kind())
        {
            case ON_LABEL:
                return !c.carries(target, rule.label());
            case OFF_LABEL:
                return c.carries(target, rule.label());
            case ANTI_AFFINITY:
                for (final long other : members)
                {
                    if (other != vm && where.hostOf(other) == target)
                    {
                        return true;
                    }
                }
                return false;
            default:
                boolean placed = false;
                for (final long other : members)
                {
                    if (other != vm && where.hostOf(other) >= 0)
                    {
                        placed = true;
                        if (where.hostOf(other) == target)
                        {
                            return false;
                        }
                    }
                }
                return placed;
        }
    }

    @Test
    void theExchangesCheckOfAllRulesAtOnceNamesTheRuleTheOrderedWalkNames()
    {
        int refused = 0;
        int allowed = 0;
        for (long seed = 1; seed <= 300; seed++)
        {
            final SplittableRandom random = new SplittableRandom(seed);
            final int hosts = 3 + random.nextInt(8);
            final Constraints c = randomRules(random, hosts);
            final int[] hostOf = new int[VMS];
            for (int vm = 0; vm < VMS; vm++)
            {
                hostOf[vm] = random.nextInt(hosts + 2) - 2; // some nowhere (-1, -2)
            }
            final Constraints.Locator where = vm -> hostOf[(int)vm];
            for (long vm = 0; vm < VMS; vm++)
            {
                final int[] own = c.rulesOf(vm);
                for (int target = 0; target <= hosts + 1; target++) // and hosts no label list knows of
                {
                    int expected = -1;
                    for (final int r : own)
                    {
                        if (oracle(c, r, vm, target, where))
                        {
                            expected = r;
                            break;
                        }
                    }
                    final String at = "seed " + seed + ", vm " + vm + " on host " + target + ", rules " + c;
                    assertEquals(expected, c.breaks(own, vm, target, where, true, false), at);
                    assertEquals(expected, c.refusal(vm, target, where), at);
                    refused += expected >= 0 ? 1 : 0;
                    allowed += expected < 0 ? 1 : 0;
                }
            }
        }
        assertTrue(refused > 10_000 && allowed > 10_000, refused + " refused, " + allowed + " allowed");
    }

    @Test
    void hardOnlyChecksStopAtTheFirstSoftRule()
    {
        for (long seed = 1; seed <= 100; seed++)
        {
            final SplittableRandom random = new SplittableRandom(seed);
            final int hosts = 3 + random.nextInt(8);
            final Constraints c = randomRules(random, hosts);
            final Constraints.Locator where = vm -> (int)(vm % (hosts + 1)) - 1;
            for (long vm = 0; vm < VMS; vm++)
            {
                final int[] own = c.rulesOf(vm);
                for (int target = 0; target < hosts; target++)
                {
                    int expected = -1;
                    for (final int r : own)
                    {
                        if (c.rule(r).hard() && oracle(c, r, vm, target, where))
                        {
                            expected = r;
                            break;
                        }
                    }
                    assertEquals(expected, c.breaks(own, vm, target, where, false, false), "seed " + seed);
                }
            }
        }
    }
}
