package io.vmsched.placement;

/**
 * A service's definition: a named group of VMs (each VM in at most one service) that the operator
 * declares with a desired size and the fewest VMs it can run with. vmsched reports a service below its
 * size and never creates VMs itself; its members are kept by {@link Placement}.
 * <p>
 * Immutable.
 *
 * @param name        unique among the cluster's services.
 * @param desiredSize VMs the operator wants running (0 or more).
 * @param minRunning  fewer running than this and the service is {@link ServiceHealth#FAILED} (0 to desiredSize).
 */
public record Service(String name, int desiredSize, int minRunning)
{
    /**
     * @throws IllegalArgumentException naming what is wrong.
     */
    public Service
    {
        Names.check("service", name);
        if (desiredSize < 0 || minRunning < 0 || minRunning > desiredSize)
        {
            throw new IllegalArgumentException("service " + name + ": size " + desiredSize + " and min " + minRunning +
                " must satisfy 0 <= min <= size");
        }
    }

    /** @return the definition's text form: {@code service NAME size=N min=M}. */
    @Override
    public String toString()
    {
        return "service " + name + " size=" + desiredSize + " min=" + minRunning;
    }
}
