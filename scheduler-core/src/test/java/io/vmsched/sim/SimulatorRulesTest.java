package io.vmsched.sim;

import io.vmsched.placement.Rule;
import io.vmsched.placement.RulesText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Placement rules in the simulator, through the runtime's code (admission, the exchange's guard, the
 * repair turn): each test checks the rules itself at the end of every step, apart from the simulator's
 * own counts, and that balancing still does its work.
 */
class SimulatorRulesTest
{
    /** Hosts of each pair's two VMs at the end of every step: pairs found on one host, in all. */
    private static int[] runCheckingPairs(final Simulator.Config config, final Workload workload, final String initial,
        final List<Rule> pairs, final SimulationResult[] result)
    {
        final Simulator simulator = new Simulator(config, workload,
            Simulator.placement(initial, workload.vms(), config.hosts, config.seed));
        final int[] together = new int[1];
        final int[] steps = new int[1];
        result[0] = simulator.run(step ->
        {
            steps[0]++;
            for (final Rule pair : pairs)
            {
                final long[] vms = pair.vms();
                if (simulator.hostOf((int)vms[0]) == simulator.hostOf((int)vms[1]))
                {
                    together[0]++;
                }
            }
        });
        assertEquals(result[0].steps(), steps[0], "every step checked");
        return together;
    }

    private static RulesText.Statements pairs(final int vms, final int count, final long seed)
    {
        final RulesText.Statements statements = RulesText.parse("generated", List.of());
        GeneratedRules.antiAffinityPairs(statements, vms, count, seed);
        return statements;
    }

    @Test
    void hardAntiAffinityPairsNeverShareAHostAndBalancingStillLowersTheCv(@TempDir final Path dir) throws IOException
    {
        // 1: a pile-up of 600 VMs on one of 10 hosts, half of them in pairs (60 VMs a host: pairs meet often)
        final Workload pileUp = SyntheticWorkload.staticLoads(600, "lognormal", 7);
        final Simulator.Config config = Simulator.Config.staticLoads();
        config.hosts = 10;
        config.steps = 30;
        config.constraints = pairs(600, 150, config.seed);
        final List<Rule> rules = new ArrayList<>(config.constraints.rules);
        final SimulationResult[] result = new SimulationResult[1];
        assertEquals(0, runCheckingPairs(config, pileUp, "all-on-one", rules, result)[0], result[0].toString());
        final SimulationResult ruled = result[0];
        assertEquals(150, ruled.rules().hardRules());
        assertEquals(150, ruled.rules().admittedElsewhere(), "one VM of each pair placed away from host 0");
        assertEquals(0, ruled.rules().maxHardBroken());
        assertEquals(0, ruled.rules().hardBroken());
        assertTrue(ruled.finalCv() < ruled.initialCv() / 10, ruled.toString());
        assertTrue(ruled.finalCv() <= 0.10, ruled.toString());

        // without the rules, the same run does put pairs together: the check above is not empty
        config.constraints = null;
        assertTrue(runCheckingPairs(config, pileUp, "all-on-one", rules, result)[0] > 0);
        assertNull(result[0].rules());

        // 2: a generated trace under the trace profile, 30 % of the VMs in pairs
        final Workload trace = Traces.planetLab(TracesTest.writePlanetLab(dir, 300, 48, 5));
        final Simulator.Config traces = Simulator.Config.traces();
        traces.hosts = 12;
        traces.constraints = pairs(300, 45, 3);
        assertEquals(0, runCheckingPairs(traces, trace, "random", new ArrayList<>(traces.constraints.rules), result)[0],
            result[0].toString());
        final SimulationResult onTrace = result[0];
        assertEquals(0, onTrace.rules().maxHardBroken(), onTrace.toString());
        assertTrue(onTrace.meanCv() < onTrace.initialCv() / 2, onTrace.toString());

        // 3: migrations that take steps, several in flight a host: both of a pair may head for the same
        // host, and the target refuses the second as it arrives
        final Simulator.Config slow = Simulator.Config.claims();
        slow.hosts = 8;
        slow.roundsPerStep = 4;
        slow.migrationSteps = 2;
        slow.balance.maxConcurrentPerHost = 4;
        slow.constraints = pairs(300, 150, 5); // every VM
        assertEquals(0, runCheckingPairs(slow, trace, "random", new ArrayList<>(slow.constraints.rules), result)[0],
            result[0].toString());
        final SimulationResult inFlight = result[0];
        assertEquals(0, inFlight.rules().maxHardBroken(), inFlight.toString());
        assertTrue(inFlight.rules().refusedOnArrival() > 0, "the arrival check was needed: " + inFlight.rules());
        slow.policy = Simulator.Policy.NONE;
        final SimulationResult none = new Simulator(slow, trace, Simulator.placement("random", 300, 8, slow.seed)).run(null);
        assertTrue(inFlight.meanCv() < 0.9 * none.meanCv(), inFlight + " against no balancing: " + none);
    }

    @Test
    void halfTheVmsPinnedToLabelledHalvesStayOnTheirHalf()
    {
        final int hosts = 16;
        final Workload workload = SyntheticWorkload.staticLoads(800, "lognormal", 9);
        final Simulator.Config config = Simulator.Config.staticLoads();
        config.hosts = hosts;
        config.steps = 30;
        config.constraints = RulesText.parse("generated", List.of());
        GeneratedRules.pinHalfToLabels(config.constraints, 800, hosts, config.seed);
        final long[] onA = config.constraints.rules.get(0).vms();
        final long[] onB = config.constraints.rules.get(1).vms();
        assertEquals(400, onA.length + onB.length, "half the VMs pinned");
        // all on host 0, which carries half-a: the half-b VMs must start on the other half
        final Simulator simulator = new Simulator(config, workload, Simulator.placement("all-on-one", 800, hosts, 1));
        final int[] offLabel = new int[1];
        final SimulationResult result = simulator.run(step ->
        {
            for (final long vm : onA)
            {
                offLabel[0] += simulator.hostOf((int)vm) < hosts / 2 ? 0 : 1;
            }
            for (final long vm : onB)
            {
                offLabel[0] += simulator.hostOf((int)vm) >= hosts / 2 ? 0 : 1;
            }
        });
        assertEquals(0, offLabel[0], result.toString());
        assertEquals(onB.length, result.rules().admittedElsewhere(), "the half-b VMs placed on their half");
        assertEquals(0, result.rules().maxHardBroken());
        assertTrue(result.finalCv() < result.initialCv() / 10, result.toString());
        assertTrue(result.finalCv() <= 0.10, result.toString());
    }

    @Test
    void rulesAddedLaterAreRepairedWithoutBreakingAHardOne()
    {
        // balanced without rules first; pairs then come into force and the repair turns mend them
        final Workload workload = SyntheticWorkload.staticLoads(600, "lognormal", 7);
        final Simulator.Config config = Simulator.Config.staticLoads();
        config.hosts = 10;
        config.steps = 20;
        config.rulesFromStep = 5;
        config.constraints = pairs(600, 150, 11);
        config.constraints.rules.add(Rule.antiAffinity("spread-soft", false, 0, 1, 2, 3, 4, 5, 6, 7));
        final SimulationResult result = new Simulator(config, workload,
            Simulator.placement("random", 600, 10, 1)).run(null);
        final SimulationResult.Rules rules = result.rules();
        assertEquals(5, rules.fromStep());
        assertTrue(rules.initialHard() > 0, "random placement put some pairs together: " + rules);
        assertEquals(0, rules.admittedElsewhere(), "the initial placement came before the rules");
        assertTrue(rules.repairs() >= rules.initialHard(), rules.toString());
        assertEquals(0, rules.hardBroken(), rules.toString());
        assertEquals(0, rules.softBroken(), rules.toString());
        assertEquals(rules.initialHard(), rules.maxHardBroken(), "repair never broke another: " + rules);
        assertTrue(result.finalCv() <= 0.10, result.toString());
    }

    @Test
    void generatedRulesAreSeededAndChecked()
    {
        final RulesText.Statements a = pairs(100, 10, 1);
        final RulesText.Statements b = pairs(100, 10, 1);
        final RulesText.Statements c = pairs(100, 10, 2);
        assertEquals(a.rules, b.rules);
        assertNotEquals(a.rules, c.rules);
        assertEquals(53, GeneratedRules.pairsFor(1052, 10));
        assertEquals(158, GeneratedRules.pairsFor(1052, 30));
        assertEquals(616, GeneratedRules.pairsFor(1233, 100), "an odd count: every VM but one");
        assertEquals("--anti-affinity-pairs 51 needs 102 VMs; the run has 100 (at most 50 pairs)",
            assertThrows(IllegalArgumentException.class, () -> pairs(100, 51, 1)).getMessage());

        final Simulator.Config config = Simulator.Config.staticLoads();
        config.hosts = 4;
        config.constraints = RulesText.parse("rules.txt", List.of("label gpu hosts=0-1", "",
            "on-label gpu-only hard label=gpu vms=3,400"));
        final Workload workload = SyntheticWorkload.staticLoads(100, "uniform", 1);
        assertEquals("rules.txt:3: rule gpu-only names vm 400, which is not in the cluster",
            assertThrows(IllegalArgumentException.class,
                () -> new Simulator(config, workload, new int[100])).getMessage());
        config.constraints = RulesText.parse("rules.txt", List.of("label gpu hosts=0-5"));
        assertEquals("rules.txt:1: label gpu names host 4; the run has 4 hosts (ids 0-3)",
            assertThrows(IllegalArgumentException.class,
                () -> new Simulator(config, workload, new int[100])).getMessage());
    }
}
