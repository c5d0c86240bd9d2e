from fedsafe.backends.config import EngineConfig
from fedsafe.backends.connect import connect_engine


def test_postgres_connections_turn_jit_off_themselves(postgres_url: str) -> None:
    # The test server also runs with jit=off; "client" as the setting's source shows that the
    # connection set it, so a backend whose server has JIT on is covered too.
    con = connect_engine(EngineConfig(url=postgres_url), [])
    try:
        setting, source = con.raw_sql(
            "SELECT setting, source FROM pg_settings WHERE name = 'jit'"
        ).fetchone()
    finally:
        con.disconnect()
    assert (setting, source) == ("off", "client")
