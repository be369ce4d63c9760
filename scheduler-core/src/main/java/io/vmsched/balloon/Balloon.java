package io.vmsched.balloon;

/**
 * The reservation module inside an in-JVM guest: it receives the host's {@link BalloonRequest} and changes
 * the guest's own allocation to meet it, with the guest's own knowledge (caches before working set, cold
 * before hot), giving memory back to the host or taking more (deflating) when the target is above what it
 * holds.
 * <p>
 * Threading: called on the guest's own slice (a dispatcher worker, never two at once for one guest), so it
 * may touch the guest's fields freely; it must return promptly (it runs inside the slice's budget) and
 * never block the host's agent, which hands the request over and reads the result later.
 */
@FunctionalInterface
public interface Balloon
{
    /**
     * @param request the host's targets.
     * @return what the guest holds now and, if short of the target, why.
     */
    BalloonResult adjust(BalloonRequest request);
}
