package io.vmsched.balance;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class LoadTableTest
{
    @Test
    void mergingKeepsTheNewerFigureOfEachHostWhateverTheOrderOrRepeats()
    {
        final LoadTable a = new LoadTable();
        final LoadTable b = new LoadTable();
        a.put(0, 1.0, 5);
        a.put(1, 2.0, 3);
        b.put(1, 2.5, 4);
        b.put(2, 0.5, 1);
        assertFalse(a.put(0, 9.0, 5), "the same time is not newer");
        assertFalse(a.put(0, 9.0, 4), "an older figure is refused");
        a.exchange(b);
        a.exchange(b); // a repeated exchange changes nothing
        for (final LoadTable t : new LoadTable[] { a, b })
        {
            assertEquals(1.0, t.load(0));
            assertEquals(2.5, t.load(1));
            assertEquals(4, t.at(1));
            assertEquals(0.5, t.load(2));
            assertTrue(Double.isNaN(t.load(7)));
            assertEquals(LoadTable.UNKNOWN, t.at(7));
        }
    }

    @Test
    void theRthHeaviestAimsAtTheRthLightest()
    {
        final SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++)
        {
            final int n = 2 + random.nextInt(60);
            final LoadTable table = new LoadTable();
            final double[] loads = new double[n];
            for (int h = 0; h < n; h++)
            {
                loads[h] = random.nextInt(5) == 0 ? 1.0 : random.nextDouble(); // ties too
                table.put(h, loads[h], 10);
            }
            final Integer[] order = new Integer[n];
            for (int h = 0; h < n; h++)
            {
                order[h] = h;
            }
            // the table's order: by load, ties by id
            java.util.Arrays.sort(order, (x, y) -> loads[x] != loads[y] ? Double.compare(loads[x], loads[y]) : Integer.compare(x, y));
            for (int r = 0; r < n; r++)
            {
                final int host = order[n - 1 - r]; // r-th heaviest
                final int expected = r < n / 2 && order[r] != host ? order[r] : -1;
                assertEquals(expected, table.match(host, 0), "trial " + trial + ", rank " + r + " of " + n);
            }
        }
    }

    @Test
    void figuresOlderThanTheLimitAndUnknownHostsAreNotRanked()
    {
        final LoadTable table = new LoadTable();
        table.put(0, 5.0, 100);
        table.put(1, 0.1, 10); // too old
        table.put(2, 1.0, 100);
        table.ensure(6); // hosts 3-5 never heard of
        assertEquals(2, table.match(0, 50));
        assertEquals(1, table.match(0, 0));
        assertEquals(-1, table.match(1, 50), "a host whose own figure is too old does not aim");
        assertEquals(-1, table.match(4, 0), "nor one not in its table");
    }
}
