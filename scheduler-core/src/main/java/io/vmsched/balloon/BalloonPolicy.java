package io.vmsched.balloon;

/**
 * When a host asks its guests' balloons, and for what (issue 19's policy): the one decision code of the
 * runtime and the simulator. Over {@link #inflateAbove} of its memory, a host asks the guest that holds the
 * most (the likeliest to have cache to spare; the host does not see inside it) to give the whole excess down
 * to the middle of the band; a guest that answers short is not asked again until it grew, and the next
 * largest is asked at the next turn. Under {@link #deflateBelow}, it gives memory back to the guest ballooned
 * furthest below its own size, up to that size, as far as the middle of the band allows. Between the two,
 * nothing: the band keeps a host from asking and giving back in turn.
 * <p>
 * While a host is over the band and a guest can still be asked, it sheds nothing by migration
 * ({@link #holdsMigrations}): it migrates only what the balloons could not free.
 * <p>
 * Pure: no clock, no threads; allocates nothing. One instance may serve any number of hosts.
 */
public final class BalloonPolicy
{
    /** No request for this VM this turn. */
    public static final long NONE = -1;

    private final double inflateAbove;
    private final double deflateBelow;

    /**
     * @param inflateAbove the share of its memory above which a host asks its balloons, in (0, 1].
     * @param deflateBelow the share below which it gives memory back, in [0, inflateAbove).
     * @throws IllegalArgumentException if the band is empty or out of range.
     */
    public BalloonPolicy(final double inflateAbove, final double deflateBelow)
    {
        if (!(inflateAbove > 0 && inflateAbove <= 1) || !(deflateBelow >= 0 && deflateBelow < inflateAbove))
        {
            throw new IllegalArgumentException("a balloon band needs 0 <= deflate-below < inflate-above <= 1, got " +
                deflateBelow + " and " + inflateAbove);
        }
        this.inflateAbove = inflateAbove;
        this.deflateBelow = deflateBelow;
    }

    /** @return the share of memory above which a host asks its balloons. */
    public double inflateAbove()
    {
        return inflateAbove;
    }

    /** @return the share of memory below which a host gives memory back. */
    public double deflateBelow()
    {
        return deflateBelow;
    }

    /**
     * One host's turn: at most one request, to inflate or to deflate one guest.
     *
     * @param capacity the host's memory, bytes.
     * @param count    the host's VMs (candidates).
     * @param held     what each VM holds now, bytes.
     * @param natural  what each VM held before any balloon request (its own size: it is never asked for more).
     * @param askable  whether each VM may be asked now (it has a balloon, no request in flight, not migrating,
     *                 and, to inflate, did not answer short since it last grew).
     * @param chosen   receives the VM's index, or {@link #NONE}.
     * @return the target for the chosen VM, bytes, or {@link #NONE} for no request.
     */
    public long decide(final double capacity, final int count, final long[] held, final long[] natural,
        final boolean[] askable, final int[] chosen)
    {
        chosen[0] = (int)NONE;
        double used = 0;
        for (int i = 0; i < count; i++)
        {
            used += held[i];
        }
        final double middle = (inflateAbove + deflateBelow) / 2 * capacity;
        if (used > inflateAbove * capacity)
        {
            int largest = -1;
            for (int i = 0; i < count; i++)
            {
                if (askable[i] && held[i] > 0 && (largest < 0 || held[i] > held[largest]))
                {
                    largest = i;
                }
            }
            if (largest < 0)
            {
                return NONE;
            }
            chosen[0] = largest;
            return Math.max(0, held[largest] - (long)Math.ceil(used - middle));
        }
        if (used < deflateBelow * capacity)
        {
            int furthest = -1;
            for (int i = 0; i < count; i++)
            {
                if (askable[i] && natural[i] > held[i] &&
                    (furthest < 0 || natural[i] - held[i] > natural[furthest] - held[furthest]))
                {
                    furthest = i;
                }
            }
            if (furthest < 0)
            {
                return NONE;
            }
            chosen[0] = furthest;
            return Math.min(natural[furthest], held[furthest] + (long)Math.floor(middle - used));
        }
        return NONE;
    }

    /**
     * @param capacity the host's memory, bytes.
     * @param used     what its VMs hold, bytes.
     * @param askable  guests that could still be asked to inflate, or requests in flight.
     * @return whether the host should not shed by migration this turn: it is over the band and its balloons
     *         may still free the excess.
     */
    public boolean holdsMigrations(final double capacity, final double used, final int askable)
    {
        return used > inflateAbove * capacity && askable > 0;
    }
}
