INSERT INTO order_lines (order_id, line_no, good_id, code, name, quantity, unit_net, vat_rate,
                         unit_gross, total_net, total_gross, kind)
VALUES (:order_id, :line_no, :good_id, :code, :name, :quantity, :unit_net, :vat_rate,
        :unit_gross, :total_net, :total_gross, :kind)
