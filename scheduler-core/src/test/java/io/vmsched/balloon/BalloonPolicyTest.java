package io.vmsched.balloon;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class BalloonPolicyTest
{
    private static final long MIB = 1024 * 1024;
    private final BalloonPolicy policy = new BalloonPolicy(0.8, 0.6);
    private final int[] chosen = new int[1];

    @Test
    void overTheBandTheLargestAskableGuestIsAskedForTheWholeExcessDownToTheMiddle()
    {
        final long[] held = { 30 * MIB, 50 * MIB, 10 * MIB };
        final boolean[] askable = { true, true, true };
        // 90 of 100 MiB: over 80 %; down to the middle, 70 %: 20 MiB, all from the largest
        assertEquals(30 * MIB, policy.decide(100 * MIB, 3, held, held.clone(), askable, chosen));
        assertEquals(1, chosen[0]);
        askable[1] = false; // it answered short, or has no balloon
        assertEquals(10 * MIB, policy.decide(100 * MIB, 3, held, held.clone(), askable, chosen));
        assertEquals(0, chosen[0], "then the next largest");
        assertTrue(policy.holdsMigrations(100 * MIB, 90 * MIB, 2));
        assertFalse(policy.holdsMigrations(100 * MIB, 90 * MIB, 0), "nobody left to ask: migrate");
        assertFalse(policy.holdsMigrations(100 * MIB, 75 * MIB, 2), "within the band");
    }

    @Test
    void underTheBandTheGuestFurthestBelowItsSizeGetsMemoryBackUpToItsSize()
    {
        final long[] held = { 10 * MIB, 20 * MIB, 5 * MIB };
        final long[] natural = { 30 * MIB, 25 * MIB, 5 * MIB };
        final boolean[] askable = { true, true, true };
        // 35 of 100 MiB: under 60 %; up to the middle (70 %) allows 35 MiB: vm 0 gets its 30 MiB back
        assertEquals(30 * MIB, policy.decide(100 * MIB, 3, held, natural, askable, chosen));
        assertEquals(0, chosen[0]);
        // 55 of 100: the middle allows 15 more, less than vm 0 lacks
        final long[] fuller = { 10 * MIB, 40 * MIB, 5 * MIB };
        assertEquals(25 * MIB, policy.decide(100 * MIB, 3, fuller, natural, askable, chosen));
        assertEquals(0, chosen[0]);
    }

    @Test
    void withinTheBandNothingIsAsked()
    {
        final long[] held = { 35 * MIB, 35 * MIB };
        assertEquals(BalloonPolicy.NONE, policy.decide(100 * MIB, 2, held, new long[]{ 50 * MIB, 50 * MIB },
            new boolean[]{ true, true }, chosen));
        assertEquals(-1, chosen[0]);
        assertThrows(IllegalArgumentException.class, () -> new BalloonPolicy(0.5, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new BalloonPolicy(1.2, 0.5));
    }
}
