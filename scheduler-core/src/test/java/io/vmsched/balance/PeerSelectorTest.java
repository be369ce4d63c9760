package io.vmsched.balance;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class PeerSelectorTest
{
    @Test
    void neverPicksItselfAndPicksOthersUniformly()
    {
        final PeerSelector selector = new PeerSelector(7);
        final int hosts = 10;
        final int[] counts = new int[hosts];
        for (int i = 0; i < 90_000; i++)
        {
            counts[selector.pick(3, hosts)]++;
        }
        assertEquals(0, counts[3]);
        for (int h = 0; h < hosts; h++)
        {
            if (h != 3)
            {
                assertEquals(10_000, counts[h], 500, "host " + h);
            }
        }
    }

    @Test
    void sameSeedSamePeers()
    {
        final PeerSelector a = new PeerSelector(42);
        final PeerSelector b = new PeerSelector(42);
        for (int i = 0; i < 1000; i++)
        {
            assertEquals(a.pick(i % 5, 5), b.pick(i % 5, 5));
        }
    }

    @Test
    void severalChoicesPairWithTheLeastLoaded()
    {
        final double[] loads = { 5, 4, 3, 2, 1, 0.5 };
        final PeerSelector selector = new PeerSelector(1);
        final ArrayHostView view = new ArrayHostView(0, loads);
        int leastSeen = 0;
        for (int i = 0; i < 1000; i++)
        {
            final int[] ids = new int[loads.length * 4];
            assertTrue(selector.contacts(view, loads.length * 4, -1, ids, new double[ids.length]) > 0);
            final int peer = ids[0];
            assertNotEquals(0, peer);
            if (peer == 5)
            {
                leastSeen++;
            }
        }
        assertTrue(leastSeen > 950, "with 24 samples of 5 peers the least loaded is nearly always found: " + leastSeen);
        assertThrows(IllegalArgumentException.class, () -> selector.pick(0, 1));
    }

    @Test
    void aPeerThatIsDownIsNotChosenWhileAnotherIsUp()
    {
        final double[] loads = { 5, Double.NaN, Double.NaN, 3 };
        final PeerSelector selector = new PeerSelector(3);
        final ArrayHostView view = new ArrayHostView(0, loads);
        for (int i = 0; i < 200; i++)
        {
            final int[] ids = new int[64];
            assertTrue(selector.contacts(view, 64, -1, ids, new double[64]) > 0);
            assertEquals(3, ids[0], "64 picks of 3 peers all but surely include host 3 ((2/3)^64 ~ 5e-12)");
        }
    }

    @Test
    void theGlobalViewPairsWithTheLeastLoadedOtherHostAndSkipsDownHosts()
    {
        final double[] loads = { 0.1, 4, Double.NaN, 2, 2.5, 0.7 };
        final PeerSelector selector = new PeerSelector(5);
        for (int i = 0; i < 100; i++)
        {
            assertEquals(5, selector.pickGlobalLeast(new ArrayHostView(0, loads)), "never itself, though it is lighter");
            assertEquals(0, selector.pickGlobalLeast(new ArrayHostView(3, loads)));
        }
        assertEquals(-1, selector.pickGlobalLeast(new ArrayHostView(0, 1.0, Double.NaN)), "no host up");
        final int[] seen = new int[3];
        for (int i = 0; i < 300; i++)
        {
            seen[selector.pickGlobalLeast(new ArrayHostView(0, 5.0, 1.0, 1.0))]++;
        }
        assertTrue(seen[1] > 50 && seen[2] > 50, "ties go either way (not evenly: the first found from a random start): " + Arrays.toString(seen));
    }
}
