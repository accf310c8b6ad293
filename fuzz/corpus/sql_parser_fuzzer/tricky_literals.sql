SELECT 0xFF, 0b101, 1e-3, .5, 1., -9223372036854775808, 18446744073709551615, 18446744073709551616, inf, -nan, Infinity,
 'it''s \n\t\x41\\ \' \% \0', "double quoted", `back``quoted`, 'unicode é中😀', NULL, true, FALSE,
 [1, 2, [3]], (1,), (), tuple(1, 'a'), x::Nullable(Int32), CAST(y AS LowCardinality(String)), CAST(z, 'DateTime64(3, \'UTC\')'),
 a[1], t.1, f(x).name, DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', INTERVAL '3 day', INTERVAL 1 HOUR + INTERVAL 2 MINUTE,
 EXTRACT(YEAR FROM d), CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, CASE x WHEN 1 THEN 'a' END, a ? b : c, a || b, 7 DIV 2, 7 MOD 2,
 (x, y) -> x + y, arrayMap(x -> x * 2, [1, 2]), {p:Array(Nullable(String))}, {q:Map(String, UInt8)} /* nested /* comment */ */ # end
