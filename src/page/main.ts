// Entry of the benchmark page (index.html). Everything else is in the components and the controller.
import './components/attention-playground.js';
