package io.vmsched.placement;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class PlacementTest
{
    private static Placement placement(final int hosts, final List<String> journal, final long... known)
    {
        final Placement placement = new Placement();
        for (int h = 0; h < hosts; h++)
        {
            placement.hostLabels(h, h % 2 == 0 ? Set.of("gpu") : Set.of("edge"));
        }
        final Set<Long> vms = new java.util.HashSet<>();
        for (final long vm : known)
        {
            vms.add(vm);
        }
        return placement.wire(vms::contains, journal::add);
    }

    private static IllegalArgumentException refused(final Runnable change)
    {
        return assertThrows(IllegalArgumentException.class, change::run);
    }

    @Test
    void eachMistakeIsOneLineNamingItAndChangesNothing()
    {
        final List<String> journal = new ArrayList<>();
        final Placement p = placement(3, journal, 1, 2, 3, 4, 5);
        p.defineService(new Service("web", 3, 2));
        p.join("web", 1, 2);
        final List<String> before = p.statements();
        final int journaled = journal.size();

        assertEquals("rule r names vm 9, which is not in the cluster",
            refused(() -> p.addRule(Rule.antiAffinity("r", true, 1, 9))).getMessage());
        assertEquals("no service is named db",
            refused(() -> p.addRule(Rule.ofService("r", Rule.Kind.ANTI_AFFINITY, true, "db", null))).getMessage());
        assertEquals("rule r names label ssd, which no host carries",
            refused(() -> p.addRule(Rule.hostLabel("r", Rule.Kind.ON_LABEL, false, "ssd", 1))).getMessage());
        assertEquals("vm 1 is already in service web (a VM is in at most one service)",
            refused(() ->
            {
                p.defineService(new Service("db", 1, 1));
                p.join("db", 3, 1);
            }).getMessage());
        p.deleteService("db");
        final int afterDb = journal.size();
        assertEquals("hard anti-affinity rule spread over 4 VMs can never hold on 3 hosts",
            refused(() -> p.addRule(Rule.antiAffinity("spread", true, 1, 2, 3, 4))).getMessage());
        assertTrue(refused(() -> p.defineService(new Service("x y", 1, 1))).getMessage().startsWith("service name 'x y' has ' '"));
        assertEquals("service web: size 2 and min 3 must satisfy 0 <= min <= size",
            refused(() -> new Service("web", 2, 3)).getMessage());

        p.addRule(Rule.ofService("web-spread", Rule.Kind.ANTI_AFFINITY, true, "web", null));
        assertEquals("hard anti-affinity rule web-spread over 4 VMs can never hold on 3 hosts",
            refused(() -> p.defineService(new Service("web", 4, 2))).getMessage());
        p.join("web", 3);
        assertEquals("hard anti-affinity rule web-spread over 4 VMs can never hold on 3 hosts",
            refused(() -> p.join("web", 4)).getMessage());
        assertEquals("hard affinity rule together contradicts hard anti-affinity rule web-spread over the same VMs",
            refused(() -> p.addRule(Rule.affinity("together", true, 1, 2))).getMessage());
        assertEquals("service web is covered by rule web-spread: delete the rule first",
            refused(() -> p.deleteService("web")).getMessage());
        assertEquals("hard rule gpu-only puts 3 VMs on the 2 hosts labelled gpu, where hard anti-affinity rule web-spread can never hold",
            refused(() -> p.addRule(Rule.ofService("gpu-only", Rule.Kind.ON_LABEL, true, "web", "gpu"))).getMessage());

        // the refused changes left nothing behind, in memory or in the journal
        assertEquals(afterDb + 2, journal.size(), journal.toString()); // the rule and vm 3's join
        assertEquals(journaled + 2, afterDb, "db's definition and deletion");
        assertNotEquals(before, p.statements());
        assertEquals(List.of("service web size=3 min=2", "join web vms=1,2,3", "anti-affinity web-spread hard service=web"),
            p.statements());
    }

    @Test
    void aJournalReplayedRebuildsTheSamePlacement()
    {
        final List<String> journal = new ArrayList<>();
        final Placement p = placement(4, journal, 1, 2, 3, 4, 5, 6);
        p.defineService(new Service("web", 3, 2));
        p.join("web", 1, 2, 3);
        p.addRule(Rule.ofService("web-spread", Rule.Kind.ANTI_AFFINITY, true, "web", null));
        p.addRule(Rule.affinity("pair", false, 4, 5));
        p.addRule(Rule.hostLabel("edge-only", Rule.Kind.ON_LABEL, true, "edge", 6));
        p.leave(3);
        p.removeRule("pair");
        p.defineService(new Service("web", 2, 1));

        final Placement again = placement(4, new ArrayList<>());
        journal.forEach(again::replay);
        assertEquals(p.statements(), again.statements());
        assertNull(again.serviceOf(3));
        assertEquals("web", again.serviceOf(2));
        assertArrayEquals(new long[]{1, 2}, again.members("web"));
    }

    @Test
    void aConstraintsFileReadsAndItsMistakesNameTheLine()
    {
        final RulesText.Statements ok = RulesText.parse("rules.txt", List.of(
            "# web tier", "service web size=3 min=2 vms=1,2,3", "", "anti-affinity spread hard service=web  # one per host",
            "on-label gpu soft label=gpu vms=7", "affinity pair soft vms=4,5"));
        assertEquals(1, ok.services.size());
        assertArrayEquals(new long[]{1, 2, 3}, ok.members.get("web"));
        assertEquals(3, ok.rules.size());
        assertEquals("anti-affinity spread hard service=web", ok.rules.get(0).toString());
        assertEquals("on-label gpu soft label=gpu vms=7", ok.rules.get(1).toString());
        for (final Rule rule : ok.rules)
        {
            assertEquals(rule, RulesText.parseRule(rule.toString()), "the text form reads back");
        }

        final Map<String, String> mistakes = new HashMap<>();
        mistakes.put("anti-affinity x firm vms=1,2", "f:1: rule x: expected hard or soft, got 'firm'");
        mistakes.put("colocate x hard vms=1,2", "f:1: unknown statement 'colocate' (expected service, label, affinity, anti-affinity, on-label or off-label)");
        mistakes.put("affinity x hard vms=1,b", "f:1: 'b' in vms= is not a VM id");
        mistakes.put("affinity x hard vms=1", "f:1: rule x names 1 VM: affinity needs at least 2");
        mistakes.put("on-label x hard vms=1", "f:1: rule x: a label is required by on-label");
        mistakes.put("affinity x hard label=a vms=1,2", "f:1: rule x: a label is meaningless for affinity");
        mistakes.put("service web min=1", "f:1: service web: size=N is required");
        mistakes.put("service web size=-1", "f:1: service web: size= needs a count of 0 or more, got '-1'");
        mistakes.put("anti-affinity x hard service=web vms=1,2", "f:1: rule x: give service= or vms=, not both");
        for (final Map.Entry<String, String> e : mistakes.entrySet())
        {
            assertEquals(e.getValue(), refused(() -> RulesText.parse("f", List.of(e.getKey()))).getMessage(), e.getKey());
        }
        assertEquals("f:3: rule a is defined twice", refused(() -> RulesText.parse("f",
            List.of("affinity a soft vms=1,2", "", "affinity a hard vms=3,4"))).getMessage());
    }

    @Test
    void theChecksFollowEachKindOfRule()
    {
        final Placement p = placement(4, new ArrayList<>(), 1, 2, 3, 4, 5, 6, 7);
        p.addRule(Rule.antiAffinity("apart", true, 1, 2, 3));
        p.addRule(Rule.affinity("together", true, 4, 5));
        p.addRule(Rule.hostLabel("gpu", Rule.Kind.ON_LABEL, true, "gpu", 6));
        p.addRule(Rule.hostLabel("not-edge", Rule.Kind.OFF_LABEL, false, "edge", 7));
        final Constraints c = p.constraints();
        final Map<Long, Integer> where = new HashMap<>(Map.of(1L, 0, 2L, 1, 4L, 2, 5L, 3));
        final Constraints.Locator at = vm -> where.getOrDefault(vm, -1);

        assertEquals("apart", c.rule(c.breaks(c.rulesOf(3), 3, 0, at, false, false)).name());
        assertEquals(-1, c.breaks(c.rulesOf(3), 3, 2, at, false, false));
        assertEquals("together", c.rule(c.breaks(c.rulesOf(4), 4, 0, at, false, false)).name());
        assertEquals(-1, c.breaks(c.rulesOf(4), 4, 3, at, false, false), "towards the other: mends it");
        assertEquals(-1, c.breaks(c.rulesOf(4), 4, 0, at, false, true), "a target alone cannot judge affinity");
        assertEquals("gpu", c.rule(c.breaks(c.rulesOf(6), 6, 1, at, false, false)).name());
        assertEquals(-1, c.breaks(c.rulesOf(6), 6, 2, at, false, false));
        assertEquals(-1, c.breaks(c.rulesOf(7), 7, 1, at, false, false), "a soft rule is not checked as hard");
        assertEquals("not-edge", c.rule(c.breaks(c.rulesOf(7), 7, 1, at, true, false)).name());

        final int together = c.rulesOf(4)[0];
        assertFalse(c.holds(together, at));
        assertEquals(2, c.mendTowards(together, 4, at), "ties go to the lowest host id");
        where.put(2L, 0); // 1 and 2 share host 0
        final int apart = c.rulesOf(1)[0];
        assertFalse(c.holds(apart, at));
        assertFalse(c.shouldMove(apart, 1, 0, at), "the lower id stays");
        assertTrue(c.shouldMove(apart, 2, 0, at), "the higher id moves");
    }

    @Test
    void labelStatementsAndAppliedTextsNameTheirLine()
    {
        final RulesText.Statements text = RulesText.parse("c.txt", List.of("label fast hosts=0-2,5", "service web size=2 vms=1,2",
            "anti-affinity spread hard service=web", "affinity pair soft vms=3,9"));
        assertArrayEquals(new int[]{0, 1, 2, 5}, text.hostLabels.get("fast"));
        assertEquals("c.txt:1: ", text.at("label fast"));
        assertEquals("c.txt:4: ", text.at("rule pair"));
        assertEquals("f:1: label needs NAME hosts=ID,FROM-TO,... (e.g. label gpu hosts=0-3,8)",
            refused(() -> RulesText.parse("f", List.of("label fast 0-3"))).getMessage());
        assertEquals("f:1: '3-1' is not a host id or a range FROM-TO of them (ids 0 or more)",
            refused(() -> RulesText.parse("f", List.of("label fast hosts=3-1"))).getMessage());
        assertEquals("f:2: label fast is given twice",
            refused(() -> RulesText.parse("f", List.of("label fast hosts=1", "label fast hosts=2"))).getMessage());

        final List<String> journal = new ArrayList<>();
        final Placement p = placement(4, journal, 1, 2, 3);
        assertEquals("c.txt:4: rule pair names vm 9, which is not in the cluster", refused(() -> p.apply(text)).getMessage());
        assertArrayEquals(new long[]{1, 2}, p.members("web"), "what came before the mistake is applied: try on a copy first");
    }
}
