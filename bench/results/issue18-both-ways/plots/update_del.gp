set terminal pngcairo size 900,520 font 'sans,10'
set output '/tmp/b18/plots/update_del.png'
set title 'one published port removed with N in place'
set xlabel 'N (published ports and mark rules)'
set ylabel 'us'
set logscale x
set xrange [0.5:200000]
set yrange [0:*]
set key outside right
set grid
plot '/tmp/b18/plots/update_del.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'iptables', '/tmp/b18/plots/update_del.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'flatpath API', '/tmp/b18/plots/update_del.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 title 'flatpath CLI'
