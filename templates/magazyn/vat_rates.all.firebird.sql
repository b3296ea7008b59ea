SELECT symbol, CAST(rate AS VARCHAR(40)) AS rate FROM vat_rates
