package idex.exchange.endpoints;

/**
 * Where an event destination's URL may point, checked when it is registered (and again by delivery at connect
 * time, since DNS may change). Refuses with a 400 that names the rule broken.
 */
public interface EventUrlPolicy {

    /** Refuses `url`, given in registration field `field`, unless deliveries may go there. */
    void checkRegistration(String url, String field);
}
