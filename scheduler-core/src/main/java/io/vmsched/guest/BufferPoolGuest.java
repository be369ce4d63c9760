package io.vmsched.guest;

import io.vmsched.balloon.Balloon;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;
import org.agrona.BufferUtil;

import java.nio.ByteBuffer;

/**
 * A database's buffer pool, modelled: a table of {@code tablePages} pages read with a skewed popularity (the page
 * of rank r is read with the density of {@code u^3}, u uniform: a few pages take most reads), and a pool of
 * {@code poolPages} pages it holds in memory really allocated off-heap (one direct buffer, freed at once when it
 * shrinks). A read of a page the pool holds is a hit; the pool keeps the most read pages, so its hit rate is about
 * {@code (poolPages / tablePages)^(1/3)}: a smaller pool costs hits. The balloon shrinks or grows the pool to the
 * host's memory target, down to a floor of pages it keeps, up to the pages it was made with; {@link #hitRate()}
 * shows the guest's own trade-off.
 * <p>
 * Threading: as every {@link Guest}; the balloon runs on the guest's slice. The getters are racy reads for tests
 * and reports.
 */
public final class BufferPoolGuest implements Guest
{
    /** Bytes of one page. */
    public static final int PAGE = 8192;
    private static final int READS_PER_SLICE = 512;
    private static final int SNAPSHOT_MAGIC = 0x42504F4C; // 'BPOL'
    private static final int SNAPSHOT_LENGTH = 4 + 8 + 3 * 4;

    private long tablePages;
    private int wantedPages;
    private int floorPages;
    private int poolPages;
    private ByteBuffer pool;
    private long seed = 0x9E3779B97F4A7C15L;
    private volatile long reads;
    private volatile long hits;

    /** An empty pool for a host to restore a snapshot into. */
    public BufferPoolGuest()
    {
        this(1, 1, 0);
    }

    /**
     * @param tablePages pages of the table, at least 1.
     * @param poolPages  pages the pool holds (and wants), in [1, tablePages].
     * @param floorPages pages it keeps whatever the host asks, in [0, poolPages].
     */
    public BufferPoolGuest(final long tablePages, final int poolPages, final int floorPages)
    {
        if (tablePages < 1 || poolPages < 1 || poolPages > tablePages || floorPages < 0 || floorPages > poolPages ||
            poolPages > Integer.MAX_VALUE / PAGE)
        {
            throw new IllegalArgumentException("a buffer pool needs 1 <= pool pages <= table pages and a floor within " +
                "the pool of at most 2 GiB, got table " + tablePages + ", pool " + poolPages + ", floor " + floorPages);
        }
        this.tablePages = tablePages;
        this.wantedPages = poolPages;
        this.floorPages = floorPages;
        resizePool(poolPages);
    }

    /** @return pages the pool holds. */
    public int poolPages()
    {
        return poolPages;
    }

    /** @return bytes the pool holds. */
    public long bytesHeld()
    {
        return (long)poolPages * PAGE;
    }

    /** @return hits over reads since the pool last changed size (NaN before a read). */
    public double hitRate()
    {
        final long r = reads;
        return r == 0 ? Double.NaN : (double)hits / r;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        long h = 0;
        for (int i = 0; i < READS_PER_SLICE; i++)
        {
            seed = seed * 6364136223846793005L + 1442695040888963407L; // an LCG: the same reads on every host
            final double u = (seed >>> 11) * 0x1.0p-53;
            final long rank = (long)(tablePages * u * u * u);
            if (rank < poolPages) // the pool keeps the most read pages: ranks below its size
            {
                h++;
                pool.put((int)(rank * PAGE), (byte)1); // the read touches the page it hit
            }
        }
        hits += h;
        reads += READS_PER_SLICE;
        context.reportMemory(bytesHeld());
    }

    @Override
    public Balloon balloon()
    {
        return this::adjust;
    }

    private BalloonResult adjust(final BalloonRequest request)
    {
        if (request.memoryBytes() == BalloonRequest.UNCHANGED)
        {
            return new BalloonResult(request.requestId(), request.vmId(), BalloonResult.Outcome.MET, bytesHeld(),
                request.processors(), "");
        }
        final long asked = request.memoryBytes() / PAGE;
        final int pages = (int)Math.max(floorPages, Math.min(wantedPages, asked));
        final int before = poolPages;
        if (pages != poolPages)
        {
            resizePool(pages);
        }
        final long held = bytesHeld();
        final BalloonResult.Outcome outcome = held == request.memoryBytes() ? BalloonResult.Outcome.MET :
            pages == before ? BalloonResult.Outcome.REFUSED : BalloonResult.Outcome.SHORT;
        final String reason = outcome == BalloonResult.Outcome.MET ? "" : pages == floorPages && asked < floorPages ?
            "it keeps a floor of " + floorPages + " pages (" + (long)floorPages * PAGE + " bytes)" :
            pages == wantedPages && asked > wantedPages ? "it wants no more than " + wantedPages + " pages" :
            "it holds whole pages of " + PAGE + " bytes";
        return new BalloonResult(request.requestId(), request.vmId(), outcome, held, request.processors(), reason);
    }

    private void resizePool(final int pages)
    {
        if (pool != null)
        {
            BufferUtil.free(pool); // the pages it drops leave the process now
            pool = null;
        }
        pool = ByteBuffer.allocateDirect(pages * PAGE);
        poolPages = pages;
        reads = 0;
        hits = 0;
    }

    @Override
    public byte[] snapshot()
    {
        return ByteBuffer.allocate(SNAPSHOT_LENGTH).putInt(SNAPSHOT_MAGIC).putLong(tablePages).putInt(wantedPages)
            .putInt(floorPages).putInt(poolPages).array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        if (state.length != SNAPSHOT_LENGTH || buffer.getInt() != SNAPSHOT_MAGIC)
        {
            throw new IllegalArgumentException("not a buffer pool snapshot (" + state.length + " bytes)");
        }
        final long table = buffer.getLong();
        final int wanted = buffer.getInt();
        final int floorAt = buffer.getInt();
        final int held = buffer.getInt();
        if (table < 1 || wanted < 1 || wanted > table || floorAt < 0 || floorAt > wanted || held < floorAt ||
            held > wanted)
        {
            throw new IllegalArgumentException("not a buffer pool snapshot: sizes out of range");
        }
        tablePages = table;
        wantedPages = wanted;
        floorPages = floorAt;
        resizePool(held);
    }

    @Override
    public String toString()
    {
        return "BufferPoolGuest{pool=" + poolPages + "/" + tablePages + " pages}";
    }
}
