set terminal pngcairo size 900,520 font 'sans,10'
set output '/tmp/b18/plots/program_cost.png'
set title 'program cost per packet (BPF_PROG_TEST_RUN, no-op subtracted)'
set xlabel 'N (published ports and mark rules)'
set ylabel 'ns'
set logscale x
set xrange [0.5:200000]
set yrange [0:*]
set key outside right
set grid
plot '/tmp/b18/plots/program_cost.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink forward, no DNAT or marks', '/tmp/b18/plots/program_cost.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'from_container forward, no DNAT or marks', '/tmp/b18/plots/program_cost.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink forward', '/tmp/b18/plots/program_cost.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink dnat (established)', '/tmp/b18/plots/program_cost.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink miss', '/tmp/b18/plots/program_cost.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 title 'from_container forward', '/tmp/b18/plots/program_cost.dat' index 6 using 1:2:3:4 with yerrorlines lw 2 title 'from_container dnat reply + mark', '/tmp/b18/plots/program_cost.dat' index 7 using 1:2:3:4 with yerrorlines lw 2 title 'from_container masq (established)', '/tmp/b18/plots/program_cost.dat' index 8 using 1:2:3:4 with yerrorlines lw 2 title 'from_container miss'
