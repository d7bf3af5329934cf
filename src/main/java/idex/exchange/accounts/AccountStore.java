package idex.exchange.accounts;

import org.jdbi.v3.core.Jdbi;

import java.util.List;

/** Accounts in the store. An account is created with its first account-level key. */
public final class AccountStore {

    private final Jdbi jdbi;

    public AccountStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public record Created(Account account, IssuedApiKey key) {
    }

    public Created create(String name, long now) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("An account needs a name.");
        }
        if (name.length() > 256) {
            throw new IllegalArgumentException("An account name has at most 256 characters.");
        }
        return jdbi.inTransaction(h -> {
            long id = h.createQuery("SELECT nextval('exchange_account_seq')").mapTo(Long.class).one();
            h.createUpdate("INSERT INTO exchange_account (account_id, name, created) VALUES (:id, :name, :now)")
                    .bind("id", id).bind("name", name.trim()).bind("now", now).execute();
            IssuedApiKey key = ApiKeyStore.issue(h, id, null, now);
            return new Created(new Account(id, name.trim(), now), key);
        });
    }

    public List<Account> list() {
        return jdbi.withHandle(h -> h.createQuery("SELECT account_id, name, created FROM exchange_account ORDER BY account_id")
                .map((rs, ctx) -> new Account(rs.getLong(1), rs.getString(2), rs.getLong(3)))
                .list());
    }
}
